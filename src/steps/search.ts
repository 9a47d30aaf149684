// search: pick what the model is shown (ranked files within the token budget).
import { selectContext } from '../context/index.js';
import type { SearchInputs } from '../plan/types.js';
import type { StepTool } from './types.js';

export const searchTool: StepTool = {
  name: 'search',
  async run(ctx) {
    const { git, searcher } = ctx.ports;
    const dir = ctx.state.repoDir;
    const inputs = ctx.step.inputs as SearchInputs;
    const history = await git.history(dir, 200).catch(() => []);
    const selection = await selectContext({
      dir,
      title: ctx.request.title,
      description: ctx.request.description,
      budgetTokens: inputs.budgetTokens,
      model: inputs.model,
      searcher,
      listFiles: (d) => git.listFiles(d),
      history,
      signal: ctx.signal,
    });
    ctx.state.context = selection;
    const names = selection.files.slice(0, 5).map((f) => f.path);
    return {
      status: 'ok',
      summary: `${selection.files.length} file(s), ${selection.tokens} tokens (${searcher.engine}): ${names.join(', ')}${selection.files.length > 5 ? ', …' : ''}`,
      data: { files: selection.files.map((f) => ({ path: f.path, tokens: f.tokens, ranges: f.ranges })), tokens: selection.tokens },
    };
  },
};
