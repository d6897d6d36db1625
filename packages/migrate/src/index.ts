/**
 * @mvvm/migrate: live migration of a running program to another host (README.md).
 *
 *   const server = await startMigrationServer({ listen: '127.0.0.1:0', dirs, token, onReceived: (p) => run(p) });
 *   const r = await migrateMachine({ machine, wasi, module, to: '127.0.0.1:9876', token });
 *   if (r.outcome === 'committed') ...   // else the program is still here (or in doubt)
 *
 * The wire protocol (no `node:` imports) is in `@mvvm/migrate/protocol`.
 */
export { migrateMachine } from './source';
export type { MigrateOptions, MigrationResult, MigrationStats, FollowSink } from './source';
export { startMigrationServer } from './server';
export type { MigrationServer, MigrationServerOptions } from './server';
export { receiveProgram, OutcomeTable } from './target';
export type { ReceivedProgram, ReceiveOptions } from './target';
export { startGateway } from './gateway';
export type { Gateway, GatewayOptions } from './gateway';
export { GatewayHost, gatewayOf } from './gateway-host';
export type { GatewayClientOptions } from './gateway-host';
export { loadToken, checkInsecure, isLoopback, parseAddress, connectChannel, listenChannels, nodeCrypto, describe as describeAddress } from './net';
export type { Address, TlsFiles } from './net';
export { MigrationError, ProtocolError, AuthError, RefusedError, ConnectionLostError, PROTOCOL_VERSION } from './protocol';
