import { readFileSync } from 'fs';
import { Machine } from './packages/interpreter/src';
(async () => {
for (const k of ['sieve','matmul','hash64','mandelbrot','nbody','sort','vm','fib']) {
  const bytes = readFileSync(`bench/kernels/${k}.wasm`);
  const m = await Machine.instantiate(bytes, {}, {});
  const ex = [...m.instance.exports].map(([n,e]) => n+':'+e.kind);
  let n = 1; 
  m.invoke('run', [1]);
  console.log(k, ex.join(' '), m.instructionCount);
}
})();
