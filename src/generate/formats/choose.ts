// `llm.edit_format = "auto"`: the format each model family writes best. GPT models are trained on
// OpenAI's apply_patch envelope; the others (and unknown models) do best with SEARCH/REPLACE blocks.
// Kept apart from the formats themselves so the planner loads no parser.

export const EDIT_FORMATS = ['udiff', 'search-replace', 'apply-patch', 'whole'] as const;
export type EditFormatSetting = 'auto' | (typeof EDIT_FORMATS)[number];

/** First match wins; the model name is matched without its provider prefix (`openai/gpt-4o`). */
const BY_MODEL: ReadonlyArray<[RegExp, (typeof EDIT_FORMATS)[number]]> = [
  [/^(gpt|chatgpt|codex|o\d)([-.\w]*)$/i, 'apply-patch'],
  [/^(claude|gemini|qwen|deepseek|llama|codellama|mistral|codestral)/i, 'search-replace'],
];

export function resolveEditFormat(setting: EditFormatSetting, model: string): (typeof EDIT_FORMATS)[number] {
  if (setting !== 'auto') return setting;
  const name = model.split('/').pop() ?? model;
  return BY_MODEL.find(([re]) => re.test(name))?.[1] ?? 'search-replace';
}
