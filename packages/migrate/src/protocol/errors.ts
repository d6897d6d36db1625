/**
 * Every way a migration fails has its class, so the CLI and a scheduler can tell a peer
 * that refused from a damaged stream from a lost connection without parsing messages.
 */
export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The byte stream is not this protocol, is damaged (CRC), or breaks a size limit. */
export class ProtocolError extends MigrationError {}

/** The peer could not prove it holds the shared secret, or asked to skip authentication. */
export class AuthError extends MigrationError {}

/** The peer refused the migration (the message says why: module, grants, state checks...). */
export class RefusedError extends MigrationError {}

/** The connection closed or timed out. */
export class ConnectionLostError extends MigrationError {}
