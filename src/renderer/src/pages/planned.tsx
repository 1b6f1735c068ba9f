// The pages that issue 7 fills in. Until each capability lands in the core, its page says what it will do
// and what comes first, in the words of the PlannedPage frame.
import { PlannedPage } from './PlannedPage.tsx';

const NOT_BUILT = 'This part of the studio is not built yet.';

export function DatasetsPage() {
  return (
    <PlannedPage
      title="Datasets"
      icon="table"
      description="The training and evaluation data of the current project."
      will={[
        'Import JSONL, CSV or Parquet files and detect their format.',
        'Page through rows and see the exact training text, with masked tokens marked.',
        'See the token-length histogram and how much the max length would cut.',
      ]}
      firstStep={{ title: 'Dataset import is on its way', body: NOT_BUILT }}
      cli="lora-studio dataset import <file>"
    />
  );
}
