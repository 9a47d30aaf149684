// Repository strings as shown to people: credentials in a URL (https://user:token@host/...) never
// appear in a message, the plan or the result.
export function displayRepo(repo: string): string {
  return repo.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i, '$1***@');
}
