// Imported first by main.tsx. Zod compiles object parsers with `new Function` unless told not to; under
// the studio's CSP (no 'unsafe-eval') even its probe is reported as a violation, so parse without it.
import { z } from 'zod';

z.config({ jitless: true });
