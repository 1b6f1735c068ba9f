import { z } from 'zod';

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

export const systemMethods = {
  'system.doctor': { input: z.object({}), output: DoctorReport, doc: 'Environment report: Node, platform, threads, onnxruntime, CUDA, data dir.' },
};
