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

export function ChatPage() {
  return (
    <PlannedPage
      title="Chat"
      icon="chat"
      description="Talk to the base model and the fine-tuned one side by side, on the same prompt."
      will={[
        'Stream both answers at once with temperature, top-p, top-k and length settings.',
        'Scale the adapter’s effect with a slider.',
        'Keep each conversation’s history.',
      ]}
      firstStep={{ title: 'Side-by-side chat is on its way', body: `${NOT_BUILT} It needs a base model, and a finished run for the tuned side.`, action: { label: 'Go to Runs', route: 'runs' } }}
      cli="lora-studio chat --model <model folder> --adapter <adapter folder> --compare"
    />
  );
}

export function AdaptersPage() {
  return (
    <PlannedPage
      title="Adapters"
      icon="layers"
      description="The LoRA adapters your runs produced, with their configurations and sizes."
      will={['Attach, detach and scale adapters.', 'Merge an adapter into its base model.', 'Combine several adapters with weights into a new one.']}
      firstStep={{ title: 'The adapter list is on its way', body: `${NOT_BUILT} Each finished run leaves an adapter; its folder is on the run’s page.`, action: { label: 'Go to Runs', route: 'runs' } }}
      cli="lora-studio adapter info <adapter folder>"
    />
  );
}

export function ExportsPage() {
  return (
    <PlannedPage
      title="Exports"
      icon="export"
      description="Take a fine-tuned model out of the studio in the format your tools read."
      will={[
        'Write a merged Hugging Face model folder.',
        'Write GGUF files, with a size estimate for each quantisation type.',
        'Write a PEFT adapter folder for Python tools.',
      ]}
      firstStep={{ title: 'Exports are on their way', body: `${NOT_BUILT} An export starts from an adapter, which a finished run produces.`, action: { label: 'Go to Runs', route: 'runs' } }}
      cli="lora-studio export --format gguf --base <model folder> --adapter <adapter folder> --out model.gguf"
    />
  );
}
