/** Types of `parse-prometheus-text-format` (it ships none): families with string values. */
declare module 'parse-prometheus-text-format' {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
