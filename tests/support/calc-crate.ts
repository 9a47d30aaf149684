// The demo's and the end-to-end tests' crate: a tiny zero-dependency Rust library whose `add`
// subtracts, a test that catches it, and the replies a model could give (a patch that does not
// compile, the right fix, a fix that leaks a secret...).

export const CALC_FILES: Record<string, string> = {
  'Cargo.toml': `[package]
name = "calc"
version = "0.1.0"
edition = "2021"

[dependencies]
`,
  '.gitignore': '/target\n',
  'src/lib.rs': `//! Small arithmetic helpers.

/// Adds two numbers.
pub fn add(a: i32, b: i32) -> i32 {
    a - b
}

/// Multiplies two numbers.
pub fn mul(a: i32, b: i32) -> i32 {
    a * b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(2, 2), 4);
    }

    #[test]
    fn multiplies() {
        assert_eq!(mul(3, 4), 12);
    }
}
`,
};

export const CALC_TASK = {
  title: 'Fix add: it subtracts instead of adding',
  description: 'The function `add` in src/lib.rs returns a - b. It must return the sum; the test `adds` fails.',
};

export function reply(subject: string, patch: string, rationale = 'The function used the wrong operator.'): string {
  return `Here is the change.\n\n## Rationale\n${rationale}\n\n## Commit message\n${subject}\n\n## Patch\n\`\`\`diff\n${patch}\`\`\`\n`;
}

function addPatch(newLine: string): string {
  return `--- a/src/lib.rs
+++ b/src/lib.rs
@@ -3,5 +3,5 @@
 /// Adds two numbers.
 pub fn add(a: i32, b: i32) -> i32 {
-    a - b
+${newLine}
 }
 
`;
}

/** Compiles nowhere: i64 where i32 is returned. */
export const BROKEN_REPLY = reply('Fix add to return the sum', addPatch('    (a as i64) + (b as i64)'));
export const FIXED_REPLY = reply('Fix add to return the sum', addPatch('    a + b'));
/** Compiles, but the test `adds` still fails (2 + 2 + 1 != 4). */
export const STILL_WRONG_REPLY = reply('Fix add', addPatch('    a + b + 1'));

export function secretReply(secret: string): string {
  return reply(
    'Fix add and configure the client',
    `--- a/src/lib.rs
+++ b/src/lib.rs
@@ -1,6 +1,8 @@
 //! Small arithmetic helpers.
 
+pub const API_TOKEN: &str = "${secret}";
+
 /// Adds two numbers.
 pub fn add(a: i32, b: i32) -> i32 {
-    a - b
+    a + b
 }
`,
  );
}

export function escapeReply(target: string): string {
  return reply(
    'Touch a file outside the repository',
    `--- a/${target}
+++ b/${target}
@@ -0,0 +1 @@
+pwned
`,
  );
}
