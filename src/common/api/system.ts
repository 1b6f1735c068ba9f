import { z } from 'zod';
import { Phrase } from './phrases.ts';

export const DoctorReport = z.object({
  appVersion: z.string(),
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  cpuThreads: z.number().int(),
  totalMemoryBytes: z.number(),
  onnxruntime: z.object({ available: z.boolean(), version: z.string().nullable(), backends: z.array(z.string()), error: z.string().nullable() }),
  cuda: z.object({ available: z.boolean(), device: z.string().nullable(), reason: z.string() }),
  dataDir: z.string(),
});
export type DoctorReport = z.infer<typeof DoctorReport>;

/**
 * A stored record the API can no longer read (written by an older version, or by hand): lists skip it rather than
 * fail, and this names it with the reason and the method that removes it.
 */
export const UnreadableRecord = z
  .object({
    kind: z.enum(['model', 'dataset', 'run']),
    id: z.string(),
    name: z.string().describe('What the record calls itself (a path or name), for a person to recognise it.'),
    reason: z.string().describe('Why, in English: the field, what it should hold and what it holds (the CLI, logs).'),
    reasonPhrase: Phrase.nullable().describe('The reason as a code with parameters, for a UI in another language.'),
    field: z.string().nullable().describe('The stored field that does not validate (`problems[0].text`), when known.'),
    file: z.string().nullable().describe('The file or folder the record stands for (dataset file, model folder, run folder).'),
    removeWith: z.enum(['models.delete', 'datasets.delete', 'runs.delete']).describe('Call it with {id} to remove the record.'),
  })
  .strict();
export type UnreadableRecord = z.infer<typeof UnreadableRecord>;

export const systemMethods = {
  'system.doctor': { input: z.object({}), output: DoctorReport, doc: 'Environment report: Node, platform, threads, onnxruntime, CUDA, data dir.' },
  'system.unreadable': {
    input: z.object({}),
    output: z.array(UnreadableRecord),
    doc: 'Stored base models, datasets and runs that no longer validate (lists skip them), each with how to remove it.',
  },
};
