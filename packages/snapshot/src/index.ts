/**
 * @mvvm/snapshot: the on-disk and on-the-wire snapshot format (header.ts has the byte
 * layout, schema.ts the body). Browser-safe; Node-only helpers (atomic files, zlib) are in
 * `@mvvm/snapshot/node`.
 */
export { FORMAT_VERSION, GROUP_FORMAT_VERSION, MAGIC } from './header';
export type { Header } from './header';
export { PRODUCER, prepareCodec, moduleHash, encodeSnapshot, decodeSnapshot, readHeader, resolveChain } from './snapshot';
export type { SnapshotContent, EncodeOptions, DecodeOptions, EncodedSnapshot, DecodedSnapshot, ResolvedSnapshot } from './snapshot';
export { FORMAT_BOUNDS, snapshotBounds } from './bounds';
export type { SnapshotBounds } from './bounds';
export { assertSameModule, checkpoint, loadChain, restoreGroup, restoreMachine } from './machine';
export type { CheckpointOptions } from './machine';
export type { PartialGroup, PartialState } from './body';
export { PAGE } from './pages';
export type { StoredMemory } from './pages';
export { applyStoredMemory, isZeroPage } from './pages';
export { streamCodec } from './codec';
export type { Codec } from './codec';
export { crc32, sameBytes, sha256, toHex } from './checksum';
export * from './errors';
