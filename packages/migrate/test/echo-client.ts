/** A TCP client of a guest echo server for the gateway tests: what it sent and what came back. */
import { randomBytes } from 'node:crypto';
import { Socket, connect } from 'node:net';

export interface EchoClient {
  socket: Socket;
  /** Sends n random bytes (remembered). */
  send(n: number): void;
  sentBytes(): number;
  backBytes(): number;
  /** The client got the end of the stream. */
  ended(): boolean;
  /** Everything sent, and everything received, each as one buffer. */
  sent(): Buffer;
  back(): Buffer;
}

export function echoClient(port: number): EchoClient {
  const socket = connect(port, '127.0.0.1');
  const back: Buffer[] = [];
  const sent: Buffer[] = [];
  let backBytes = 0;
  let sentBytes = 0;
  let ended = false;
  socket.on('data', (d) => {
    back.push(d);
    backBytes += d.length;
  });
  socket.on('end', () => (ended = true));
  return {
    socket,
    send(n) {
      const b = randomBytes(n);
      sent.push(b);
      sentBytes += n;
      socket.write(b);
    },
    sentBytes: () => sentBytes,
    backBytes: () => backBytes,
    ended: () => ended,
    sent: () => Buffer.concat(sent),
    back: () => Buffer.concat(back),
  };
}
