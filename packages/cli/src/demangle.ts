/**
 * The qualified name of an Itanium-mangled C++ function (`_ZN1g7BrandesIfEET_RKNS_3CSRE…` ->
 * `g::Brandes`), enough to match what a user types for `-f`: nested and std:: names,
 * constructors and destructors; template arguments and parameter types are skipped. Not a
 * full demangler: anything it does not follow gives null.
 */
export function demangledName(mangled: string): string | null {
  if (!mangled.startsWith('_Z')) return null;
  let at = 2;
  const parts: string[] = [];
  const sourceName = (): boolean => {
    const m = /^\d+/.exec(mangled.slice(at));
    if (!m) return false;
    const len = Number(m[0]);
    at += m[0].length;
    if (len === 0 || at + len > mangled.length) return false;
    parts.push(mangled.slice(at, at + len));
    at += len;
    return true;
  };
  /** Skips a balanced I...E template argument list (names inside skipped by their length). */
  const templateArgs = (): void => {
    let depth = 0;
    do {
      const digits = /^\d+/.exec(mangled.slice(at));
      if (digits && mangled[at - 1] !== 'S' && mangled[at - 1] !== 'T') {
        at += digits[0].length + Number(digits[0]);
        continue;
      }
      const c = mangled[at++];
      if (c === 'L' && /[a-z]/.test(mangled[at] ?? '')) {
        const end = mangled.indexOf('E', at); // a literal: L, builtin type, value, E
        if (end < 0) return;
        at = end + 1;
      } else if (c === 'I' || c === 'N' || c === 'L') depth++;
      else if (c === 'E') depth--;
      else if (c === undefined) return;
    } while (depth > 0);
  };
  if (mangled[at] === 'N') {
    at++;
    while ('rVKRO'.includes(mangled[at] ?? '')) at++;
    for (;;) {
      if (mangled.startsWith('St', at)) {
        parts.push('std');
        at += 2;
      } else if (mangled[at] === 'S' && mangled[at + 1] === '_') at += 2; // a substitution: the prefix already read
      else if (mangled[at] === 'I') templateArgs();
      else if (mangled[at] === 'C' || mangled[at] === 'D') {
        const cls = parts[parts.length - 1] ?? '';
        parts.push(mangled[at] === 'C' ? cls : `~${cls}`);
        at += 2;
      } else if (mangled[at] === 'E') break;
      else if (!sourceName()) return null;
    }
  } else {
    if (mangled.startsWith('St', at)) {
      parts.push('std');
      at += 2;
    }
    if (!sourceName()) return null;
  }
  return parts.join('::');
}
