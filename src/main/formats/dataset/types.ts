/**
 * The canonical example shapes every dataset format is normalised to, and that the tokenizer renders.
 * A row keeps its raw columns (as strings) in `fields` so prompt templates can reach any column.
 */

export interface ChatMessage {
  role: string;
  content: string;
}

export type Example =
  | { kind: 'text'; text: string; fields?: Record<string, string> }
  | { kind: 'completion'; prompt: string; completion: string; fields?: Record<string, string> }
  | { kind: 'chat'; messages: ChatMessage[]; fields?: Record<string, string> };

export type ExampleKind = Example['kind'];
