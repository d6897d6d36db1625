/**
 * Every error the runtime raises on purpose is one of these classes, so callers (the spec
 * runner, the CLI, WASI) can tell a malformed module from an invalid one, a link failure
 * from a trap, without parsing messages.
 */
export class WasmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The bytes are not a well-formed binary module (the spec's "malformed"). */
export class MalformedError extends WasmError {
  constructor(message: string, readonly offset?: number) {
    super(offset === undefined ? message : `${message} (at byte 0x${offset.toString(16)})`);
  }
}

/** A well-formed module uses a feature this runtime does not implement. */
export class UnsupportedFeatureError extends MalformedError {}

/** The module is well-formed but does not validate (the spec's "invalid"). */
export class ValidationError extends WasmError {
  constructor(message: string, readonly offset?: number, readonly funcIndex?: number) {
    super(
      (funcIndex === undefined ? '' : `in function ${funcIndex}: `) +
        message +
        (offset === undefined ? '' : ` (at byte 0x${offset.toString(16)})`),
    );
  }
}

/** Imports do not match what the module asks for (the spec's "unlinkable"). */
export class LinkError extends WasmError {}

/** A runtime trap. `message` is the spec's wording ("integer divide by zero", ...). */
export class Trap extends WasmError {}

/** The call stack or operand stack limit was reached (the spec's "exhaustion"). */
export class ExhaustionError extends Trap {}

/** A snapshot cannot be restored (wrong module, wrong version, inconsistent data). */
export class RestoreError extends WasmError {}

/**
 * Threads wait with nothing left to wake them: every thread of a ThreadGroup waits without a
 * timeout (memory.atomic.wait), or a Machine outside any group waits without a timeout.
 */
export class DeadlockError extends WasmError {}
