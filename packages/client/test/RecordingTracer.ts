/**
 * A tracer for tests: it records every span it is asked for (what an OTLP exporter would receive).
 */
import { Tracer } from "effect"

export const recording = () => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return { spans, tracer }
}
