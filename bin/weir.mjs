#!/usr/bin/env node
// The `weir` command (package.json "bin"). Plain JS so that it runs without a build: it registers tsx,
// then loads the TypeScript CLI next to this file. import.meta.url is this file's real path even when it
// is started through a symlink such as node_modules/.bin/weir (realpath'd again for --preserve-symlinks-main).
import { realpathSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();

const here = pathToFileURL(realpathSync(fileURLToPath(import.meta.url)));
const { main } = await import(new URL('./cli.ts', here).href);
await main(process.argv.slice(2));
