import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { previewDataset } from '../../../src/main/formats/dataset/preview.ts';
import { writeTinyTokenizer, CHATML_TEMPLATE } from '../../fixtures/tiny-tokenizer.ts';

const root = mkdtempSync(join(tmpdir(), 'ds-preview-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
writeTinyTokenizer(join(root, 'model'));
const chat = (q: string, a: string) => ({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: a }] });
const rows = [chat('What is a rank?', 'Adapter size.'), chat('Long?', 'word '.repeat(80)), { messages: [{ role: 'user', content: 'x' }, { role: 'robot', content: 'y' }] }, chat('Q3', 'A3')];
const path = join(root, 'chat.jsonl');
writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n'));

describe('previewDataset', () => {
  it('gives the import report, a page of rendered rows with trained pieces, and length statistics', async () => {
    const p = await previewDataset(path, { modelDir: join(root, 'model'), maxLength: 40, rows: 2 });
    expect(JSON.parse(JSON.stringify(p))).toEqual(p); // crosses a process boundary as is
    expect(p).toMatchObject({ file: 'chat.jsonl', format: 'chat', rowsRead: 4, examples: 3, badRows: 1, duplicateRows: 0 });
    expect(p.problemLines[0]).toMatch(/^chat\.jsonl:3 \(row 2\), field "messages\[1\]\.role": unknown role "robot"/);
    expect(p.template).toEqual({ type: 'chat', template: CHATML_TEMPLATE });
    expect(p.rows.map((r) => r.row)).toEqual([0, 1]);
    const first = p.rows[0].rendered!;
    expect(first.text).toBe('<|im_start|>user\nWhat is a rank?<|im_end|>\n<|im_start|>assistant\nAdapter size.<|im_end|>\n');
    expect(first.pieces.filter((x) => x.trained).map((x) => x.text).join('')).toBe('Adapter size.<|im_end|>');
    expect(p.rows[1].rendered).toMatchObject({ truncated: true, tokens: 40 });
    expect(p.stats).toMatchObject({ count: 3, truncated: 1, maxLength: 40 });
    const page2 = await previewDataset(path, { modelDir: join(root, 'model'), offset: 2, rows: 5 });
    expect(page2.rows.map((r) => r.row)).toEqual([3]);
  });

  it('shows rows without a model, and a template error on the row it concerns', async () => {
    const bare = await previewDataset(path, { rows: 1 });
    expect(bare.rows[0]).toEqual({ row: 0, line: 1, example: { kind: 'chat', messages: rows[0].messages, fields: expect.any(Object) } });
    expect(bare.stats).toBeNull();
    const strict = "{% if messages[0].content == 'Long?' %}{{ raise_exception('too long for this template') }}{% endif %}{{ messages[0].content }}";
    const p = await previewDataset(path, { modelDir: join(root, 'model'), template: { type: 'chat', template: strict }, rows: 2 });
    expect(p.rows[0].rendered).toBeDefined();
    expect(p.rows[1].error).toMatch(/too long for this template/);
    expect(p.stats!.failures).toEqual([{ row: 1, line: 2, message: expect.stringMatching(/too long for this template/) }]);
  });
});
