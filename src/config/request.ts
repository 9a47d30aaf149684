// A task request, validated the same way whether it comes from flags or (later) the REST API.
import { z } from 'zod';

export const requestSchema = z.strictObject({
  repo: z.string().trim().min(1, 'a repository URL or path'),
  title: z.string().trim().min(1, 'a non-empty title').max(200, 'at most 200 characters'),
  description: z.string().max(100_000).default(''),
  base: z
    .string()
    .regex(/^(?!-)[^\s~^:?*[\\]+$/, 'a branch name')
    .optional(),
  risk: z.enum(['low', 'medium', 'high']).optional(),
  noPr: z.boolean().default(false),
  keepWorkspace: z.boolean().default(false),
});

export type RequestInput = z.input<typeof requestSchema>;
