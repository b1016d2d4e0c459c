import { readFile } from 'node:fs/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { PanelConfig } from '../../config/schema.ts';
import type { Component } from '../core/component.ts';

/**
 * The box's HTTP server (panel, health, later the county pull API): one
 * fastify instance; each area registers itself as a plugin.
 */
export class HttpServer implements Component {
  readonly name = 'http';
  readonly app: FastifyInstance;

  private constructor(
    app: FastifyInstance,
    private readonly cfg: PanelConfig,
    private readonly log: Logger,
  ) {
    this.app = app;
  }

  static async create(cfg: PanelConfig, log: Logger): Promise<HttpServer> {
    const https = cfg.tls ? { key: await readFile(cfg.tls.keyFile), cert: await readFile(cfg.tls.certFile) } : null;
    // Per-request logs would drown the box's own at warn and below; fastify logs its warnings and errors.
    const app = Fastify({ loggerInstance: log.child({}, { level: 'warn' }), ...(https ? { https } : {}) }) as unknown as FastifyInstance;
    return new HttpServer(app, cfg, log);
  }

  async start(): Promise<void> {
    try {
      await this.app.listen({ host: this.cfg.host, port: this.cfg.port });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EADDRINUSE')
        throw new Error(`panel.port: ${this.cfg.host}:${this.cfg.port} is already in use — stop the other program or choose another port`);
      throw err;
    }
    this.log.info({ url: this.url }, 'HTTP server listening');
  }

  async stop(): Promise<void> {
    await this.app.close();
  }

  /** The base URL, e.g. http://127.0.0.1:8080 (with the real port when 0 was configured). */
  get url(): string {
    const addr = this.app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.cfg.port;
    const host = this.cfg.host === '0.0.0.0' || this.cfg.host === '::' ? '127.0.0.1' : this.cfg.host;
    return `${this.cfg.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
}
