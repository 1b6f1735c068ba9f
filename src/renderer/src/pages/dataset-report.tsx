// What the Datasets page says about a dataset beyond its rows: the rows that repeat an earlier one (where to find
// them), and a warning when the chosen model's tokenizer spends far more tokens per character on it than text
// usually costs, with what that costs in tokens and time.
import type { Dataset, TokenStats } from '../../../common/api/datasets.ts';
import { Banner } from '../components/index.ts';
import { t } from '../i18n/t.ts';
import { rowName } from './wizard/preview-parts.tsx';

/** Tokens per character a BPE tokenizer usually spends on text it was trained for (formats/dataset/stats.ts). */
const USUAL_TOKENS_PER_CHARACTER = 0.3;

export function DuplicateList({ dataset }: { dataset: Dataset }) {
  if (dataset.duplicateRows === 0) return <p className="muted">{t('datasets.noDuplicates')}</p>;
  const groups = dataset.duplicateGroups;
  return (
    <div className="stack">
      <p>
        {t('datasets.duplicatesSummary', { rows: dataset.duplicateRows })}
        {groups.length > 0 && groups.reduce((sum, g) => sum + g.duplicates.length, 0) < dataset.duplicateRows
          ? ` ${t('datasets.moreGroups', { listed: groups.length })}`
          : ''}
      </p>
      <ul className="problem-list" aria-label={t('datasets.duplicatesList')}>
        {groups.map((g) => (
          <li key={g.first.row}>
            {t('datasets.duplicateOf', { first: rowName(g.first), repeats: g.duplicates.map(rowName).join(', ') })}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Shown when the tokenizer does not know the text's script (e.g. Korean on a tokenizer with no Hangul merges). */
export function TokenizationWarning({ stats, examples }: { stats: TokenStats; examples: number }) {
  if (!stats.heavyTokenization) return null;
  const perExampleChars = stats.count > 0 ? stats.characters / stats.count : 0;
  const tokens = Math.round(stats.mean * examples);
  const usualTokens = Math.round(perExampleChars * USUAL_TOKENS_PER_CHARACTER * examples);
  return (
    <Banner tone="info" title={t('datasets.heavyTitle')}>
      <span data-testid="heavy-tokenization">
        {t('datasets.heavyBody', {
          perChar: stats.tokensPerCharacter,
          factor: stats.tokensPerCharacter / USUAL_TOKENS_PER_CHARACTER,
          tokens,
          usualTokens,
          examples,
        })}
      </span>
    </Banner>
  );
}
