import { Machine } from './packages/interpreter/src';
import { wat } from './packages/interpreter/test/helpers/wat';
import { jitSource } from './packages/interpreter/src/execution/js-tier';
import { disassembleText } from './packages/interpreter/src/translation/disassemble';
(async () => {
  const bytes = await wat(`(module (memory 1)
  (func (export "f") (param i32 i32) (result i32)
    (local i32 i32)
    (local.set 2 (i32.const 10))
    (block $32
      (block $0
         (br_table $0 $32 (local.get 0)))
      (if (i32.eq (local.get 1) (i32.const 0))
        (then
          (i32.store8 (i32.const 0) (local.get 2))
          (local.set 3 (i32.load8_s (i32.const 0)))))
      (br $32))
    (local.get 3)))`);
  for (const tier of ['interpreter', 'eager'] as const) {
    const m = await Machine.instantiate(bytes, {}, { tier });
    console.log(tier, m.invoke('f', [0, 0]));
    const code = m.instance.compiled.code; const f = m.instance.compiled.functions[0];
    if (tier === 'eager') { console.log(disassembleText(code.words, f.entry, f.end)); console.log(jitSource(code.words, code.segmentLengths, f, code.jitContext())); }
  }
})();
