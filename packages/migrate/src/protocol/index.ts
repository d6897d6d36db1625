/**
 * The wire protocol of @mvvm/migrate: frames, control messages, bulk payloads, mutual
 * authentication and the channel. No `node:` imports: any ordered byte stream can carry it.
 */
export * from './errors';
export * from './frames';
export * from './messages';
export * from './bulk';
export * from './auth';
export * from './channel';
export * from './handshake';
