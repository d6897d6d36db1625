/* Switch-heavy loop: a tiny stack-based bytecode VM with a big switch,
   running a bytecode program that loops n times doing mixed arithmetic. */
enum {
  OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_OVER,
  OP_ADD, OP_SUB, OP_MUL, OP_DIVU, OP_REMU, OP_AND, OP_OR, OP_XOR, OP_SHL, OP_SHRU,
  OP_NOT, OP_NEG, OP_INC, OP_DEC, OP_EQZ, OP_LTU,
  OP_LOAD, OP_STORE, OP_JMP, OP_JZ, OP_JNZ, OP_ROTL, OP_MIN, OP_MAX,
  OP_NOP
};

static int regs[16];
static unsigned int stack[256];

/* Program: r0 = n (counter), r1 = accumulator, r2 = lcg state */
static const int program[] = {
  /* 0 */ OP_LOAD, 0, OP_JZ, 62,                      /* while (r0 != 0) { */
  /* 4 */ OP_LOAD, 2, OP_PUSH, 1103515245, OP_MUL, OP_PUSH, 12345, OP_ADD, OP_DUP, OP_STORE, 2,
  /* 15 */ OP_PUSH, 16, OP_SHRU, OP_PUSH, 1000, OP_REMU,  /* t = (r2 >> 16) % 1000 */
  /* 21 */ OP_DUP, OP_PUSH, 3, OP_AND, OP_EQZ, OP_JNZ, 42, /* if ((t & 3) == 0) goto L42 */
  /* 28 */ OP_LOAD, 1, OP_XOR, OP_PUSH, 5, OP_ROTL, OP_LOAD, 0, OP_ADD, OP_STORE, 1, /* r1 = rotl(r1 ^ t, 5) + r0 */
  /* 39 */ OP_NOP, OP_JMP, 55,
  /* 42 */ OP_LOAD, 1, OP_SWAP, OP_SUB, OP_PUSH, 7, OP_MUL, OP_NOT, OP_PUSH, 99, OP_MAX, OP_STORE, 1, /* r1 = max(~((r1 - t) * 7), 99) */
  /* 55 */ OP_LOAD, 0, OP_DEC, OP_STORE, 0, OP_JMP, 0,  /* r0--; } */
  /* 62 */ OP_LOAD, 1, OP_LOAD, 2, OP_XOR, OP_HALT,
};

__attribute__((export_name("run"))) int run(int n) {
  regs[0] = n; regs[1] = 0; regs[2] = 42;
  int pc = 0, sp = 0;
  for (;;) {
    int op = program[pc++];
    switch (op) {
      case OP_HALT: return (int)stack[sp - 1];
      case OP_PUSH: stack[sp++] = (unsigned)program[pc++]; break;
      case OP_POP: sp--; break;
      case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
      case OP_SWAP: { unsigned t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; break; }
      case OP_OVER: stack[sp] = stack[sp - 2]; sp++; break;
      case OP_ADD: sp--; stack[sp - 1] += stack[sp]; break;
      case OP_SUB: sp--; stack[sp - 1] -= stack[sp]; break;
      case OP_MUL: sp--; stack[sp - 1] *= stack[sp]; break;
      case OP_DIVU: sp--; stack[sp - 1] = stack[sp] ? stack[sp - 1] / stack[sp] : 0; break;
      case OP_REMU: sp--; stack[sp - 1] = stack[sp] ? stack[sp - 1] % stack[sp] : 0; break;
      case OP_AND: sp--; stack[sp - 1] &= stack[sp]; break;
      case OP_OR: sp--; stack[sp - 1] |= stack[sp]; break;
      case OP_XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
      case OP_SHL: sp--; stack[sp - 1] <<= (stack[sp] & 31); break;
      case OP_SHRU: sp--; stack[sp - 1] >>= (stack[sp] & 31); break;
      case OP_NOT: stack[sp - 1] = ~stack[sp - 1]; break;
      case OP_NEG: stack[sp - 1] = -stack[sp - 1]; break;
      case OP_INC: stack[sp - 1]++; break;
      case OP_DEC: stack[sp - 1]--; break;
      case OP_EQZ: stack[sp - 1] = stack[sp - 1] == 0; break;
      case OP_LTU: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
      case OP_LOAD: stack[sp++] = (unsigned)regs[program[pc++]]; break;
      case OP_STORE: regs[program[pc++]] = (int)stack[--sp]; break;
      case OP_JMP: pc = program[pc]; break;
      case OP_JZ: if (stack[--sp] == 0) pc = program[pc]; else pc++; break;
      case OP_JNZ: if (stack[--sp] != 0) pc = program[pc]; else pc++; break;
      case OP_ROTL: { sp--; unsigned r = stack[sp] & 31; unsigned x = stack[sp - 1];
        stack[sp - 1] = (x << r) | (x >> ((32 - r) & 31)); break; }
      case OP_MIN: sp--; if ((int)stack[sp] < (int)stack[sp - 1]) stack[sp - 1] = stack[sp]; break;
      case OP_MAX: sp--; if ((int)stack[sp] > (int)stack[sp - 1]) stack[sp - 1] = stack[sp]; break;
      case OP_NOP: break;
      default: return -1;
    }
  }
}
