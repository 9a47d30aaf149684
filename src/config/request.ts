// A task request, validated the same way whether it comes from flags or (later) the REST API.
import { z } from 'zod';

// `scheme://userinfo@`: greedy up to the last `@` before the path, as URL parsers read it.
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]*)@/i;

/**
 * `repo` as it may be stored, logged and shown: without the credentials of a URL. Over http(s) all
 * of the userinfo goes (`https://TOKEN@host/…` is a token too); elsewhere only a password, since the
 * user name is how ssh logs in (`ssh://git@host/…`). The clone may still use what the user gave.
 */
export function withoutCredentials(repo: string): string {
  const match = URL_USERINFO.exec(repo);
  if (!match) return repo;
  const [whole, scheme, userinfo] = match;
  const user = /^https?:\/\/$/i.test(scheme) ? '' : userinfo.split(':')[0];
  return `${scheme}${user ? `${user}@` : ''}${repo.slice(whole.length)}`;
}

export const requestSchema = z.strictObject({
  // Credentials never enter a request: it is stored, logged and shown (the caller keeps the URL it was given for the clone).
  repo: z.string().trim().min(1, 'a repository URL or path').transform(withoutCredentials),
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
