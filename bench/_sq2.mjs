import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
const N = 100_000, ROWS = 64;
const keys = Array.from({ length: N }, (_, i) => 'k' + JSON.stringify([i])).sort();
for (const variant of ['rowid', 'without']) {
  const db = new Database(mkdtempSync('/tmp/sq-') + '/s.db');
  db.pragma('journal_mode = WAL'); db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE st (op INTEGER NOT NULL, key TEXT NOT NULL, cur_id INTEGER NOT NULL, cur TEXT, prev_id INTEGER, prev TEXT, PRIMARY KEY (op, key))${variant === 'without' ? ' WITHOUT ROWID' : ''}`);
  const st = db.prepare(`INSERT INTO st (op, key, cur_id, cur) VALUES ${Array(ROWS).fill('(0, ?, ?, ?)').join(', ')} ON CONFLICT (op, key) DO UPDATE SET prev_id = cur_id, prev = cur, cur_id = excluded.cur_id, cur = excluded.cur`);
  for (let cp = 1; cp <= 5; cp++) {
    const vals = keys.map((k, i) => JSON.stringify([[i], [cp * 7 + i % 50, i % 33], i % 50, null]));
    const t0 = performance.now();
    db.transaction(() => {
      const p = new Array(ROWS * 3);
      for (let i = 0; i + ROWS <= N; i += ROWS) { for (let j = 0; j < ROWS; j++) { p[3*j] = keys[i+j]; p[3*j+1] = cp; p[3*j+2] = vals[i+j]; } st.run(...p); }
    })();
    console.log(variant, 'cp', cp, (performance.now() - t0).toFixed(0), 'ms');
  }
  db.close();
}
