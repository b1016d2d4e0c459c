import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';

export interface HealthDeps {
  boxId: string;
  version: string;
  startedAt: number;
  store: Store;
  metrics: Metrics;
}

/** GET /healthz (JSON, for people and probes) and GET /metrics (Prometheus text). */
export async function healthRoutes(app: FastifyInstance, deps: HealthDeps): Promise<void> {
  app.get('/healthz', async (_req, reply) => {
    const usage = deps.store.budget.usage;
    const stage = usage?.stage ?? 0;
    return reply.send({
      status: stage >= 2 ? 'degraded' : 'ok',
      boxId: deps.boxId,
      version: deps.version,
      uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
      store: {
        lastSeq: deps.store.events.lastSeq(),
        writeQueue: deps.store.writer.pending,
        budgetStage: stage,
        shedding: deps.store.shedding(),
        usedMb: usage ? +(usage.usedBytes / 1048576).toFixed(2) : null,
        freeDiskMb: usage ? +(usage.freeDiskBytes / 1048576).toFixed(0) : null,
        recoveredFrom: deps.store.recovery?.movedTo ?? null,
      },
    });
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
