/**
 * The opening exchange: Hello both ways (protocol name and version, fresh nonces), then,
 * when the target has a secret, the mutual HMAC proofs (auth.ts). A side with a secret
 * never talks to a side without one; two sides without one proceed (the Node layer allows
 * that only on loopback with an explicit --insecure).
 */
import { MigrationCrypto, proof, sameProof, toHex } from './auth';
import type { Channel } from './channel';
import { AuthError, ProtocolError } from './errors';
import { FrameType } from './frames';
import { PROTOCOL, PROTOCOL_VERSION, decodeMessage, encodeMessage } from './messages';

export interface HandshakeOptions {
  /** The shared secret, or null (unauthenticated: both sides must agree). */
  secret: Uint8Array | null;
  crypto: MigrationCrypto;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT = 30_000;

export async function handshakeAsSource(ch: Channel, o: HandshakeOptions): Promise<void> {
  const t = o.timeoutMs ?? DEFAULT_TIMEOUT;
  const nonce = toHex(o.crypto.randomBytes(32));
  ch.send(encodeMessage(FrameType.Hello, { protocol: PROTOCOL, version: PROTOCOL_VERSION, role: 'source', nonce, auth: o.secret !== null }));
  const hello = decodeMessage(await ch.next(t), FrameType.Hello);
  if (hello.version !== PROTOCOL_VERSION) throw new ProtocolError(`the target speaks protocol version ${hello.version}, this source ${PROTOCOL_VERSION}`);
  if (hello.role !== 'target') throw new ProtocolError('the peer is not a migration target');
  if (o.secret !== null) {
    if (!hello.auth || hello.proof === undefined) throw new AuthError(`${ch.peer} does not authenticate (it runs without a token): refusing to send a program to it`);
    if (!sameProof(hello.proof, await proof(o.crypto, o.secret, 'target', nonce, hello.nonce))) {
      throw new AuthError(`${ch.peer} failed authentication: it does not hold the same token`);
    }
    ch.send(encodeMessage(FrameType.Auth, { proof: await proof(o.crypto, o.secret, 'source', nonce, hello.nonce) }));
  } else if (hello.auth) {
    throw new AuthError(`${ch.peer} requires authentication: set MVVM_MIGRATION_TOKEN or --token-file`);
  }
  decodeMessage(await ch.next(t), FrameType.AuthOk);
  ch.authenticated();
}

/** The target's side; on failure it tells the source why (Refuse) before throwing. */
export async function handshakeAsTarget(ch: Channel, o: HandshakeOptions): Promise<void> {
  const t = o.timeoutMs ?? DEFAULT_TIMEOUT;
  const refuse = (e: Error) => {
    try {
      ch.send(encodeMessage(FrameType.Refuse, { reason: e.message }));
    } catch {
      /* the channel is gone already */
    }
    return e;
  };
  const hello = decodeMessage(await ch.next(t), FrameType.Hello);
  if (hello.version !== PROTOCOL_VERSION) throw refuse(new ProtocolError(`protocol version ${hello.version}: this target speaks ${PROTOCOL_VERSION}`));
  if (hello.role !== 'source') throw refuse(new ProtocolError('the peer is not a migration source'));
  const nonce = toHex(o.crypto.randomBytes(32));
  if (o.secret === null) {
    ch.send(encodeMessage(FrameType.Hello, { protocol: PROTOCOL, version: PROTOCOL_VERSION, role: 'target', nonce, auth: false }));
    if (hello.auth) throw new AuthError(`${ch.peer} authenticates but this target has no token`);
  } else {
    if (!hello.auth) throw refuse(new AuthError('this target requires authentication: set MVVM_MIGRATION_TOKEN or --token-file'));
    const mine = await proof(o.crypto, o.secret, 'target', hello.nonce, nonce);
    ch.send(encodeMessage(FrameType.Hello, { protocol: PROTOCOL, version: PROTOCOL_VERSION, role: 'target', nonce, auth: true, proof: mine }));
    const auth = decodeMessage(await ch.next(t), FrameType.Auth);
    if (!sameProof(auth.proof, await proof(o.crypto, o.secret, 'source', hello.nonce, nonce))) {
      throw refuse(new AuthError(`${ch.peer} failed authentication: wrong token`));
    }
  }
  ch.authenticated();
  ch.send(encodeMessage(FrameType.AuthOk, {}));
}
