/**
 * Every way a snapshot can be refused has its own class, so a caller (the CLI, a server
 * receiving snapshots over the wire) can tell a damaged file from one for another program
 * without parsing messages. All extend SnapshotError.
 */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The bytes end before the header or the body does. */
export class TruncatedSnapshotError extends SnapshotError {}

/** Not a snapshot at all: the magic number is missing. */
export class NotASnapshotError extends SnapshotError {}

/** A checksum does not match: flipped bits on disk or on the wire. */
export class CorruptSnapshotError extends SnapshotError {}

/** Written by a format version (or state/translator version) this runtime does not read. */
export class SnapshotVersionError extends SnapshotError {}

/** Intact, but its contents do not have the shape of the format (or do not fit the module). */
export class InvalidSnapshotError extends SnapshotError {}

/** The snapshot belongs to another module (its SHA-256 differs). */
export class WrongModuleError extends SnapshotError {}

/** An incremental snapshot was given without the snapshot it is based on. */
export class MissingBaseError extends SnapshotError {}

/** An incremental chain was given out of order (a link's base is not the previous link). */
export class ChainOrderError extends SnapshotError {}
