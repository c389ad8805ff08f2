import type { SnippetPart } from "../../ipc";

/** Search snippet with the matched words highlighted. */
export function Snippet({ parts }: { parts: SnippetPart[] }) {
  return <>{parts.map((part, i) => (part.matched ? <mark key={i}>{part.text}</mark> : part.text))}</>;
}
