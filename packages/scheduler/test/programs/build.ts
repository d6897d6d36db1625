/** Rebuilds ticker.wasm from ticker.wat with wabt (the npm devDependency): `npx tsx build.ts`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

async function main(): Promise<void> {
  const wabt = await (require('wabt') as () => Promise<any>)();
  for (const name of ['ticker']) {
    const mod = wabt.parseWat(`${name}.wat`, readFileSync(join(__dirname, `${name}.wat`), 'utf8'));
    const { buffer } = mod.toBinary({});
    writeFileSync(join(__dirname, `${name}.wasm`), buffer);
    console.log(`built ${name}.wasm (${buffer.length} bytes)`);
  }
}
void main();
