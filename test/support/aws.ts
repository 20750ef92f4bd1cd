import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { checkpointTableDefinition } from '../../lib/checkpoint/dynamodb-keys.ts';

/**
 * In-process AWS stand-ins for the tests, on ephemeral ports, so `npm test` needs no extra service:
 * dynalite (DynamoDB; enforces ConditionExpression, has no transactions) and s3rver (S3) behind
 * {@link startS3}'s condition-enforcing proxy. Child processes (ferry CLI runs) reach them over TCP.
 */

const require = createRequire(import.meta.url);

/** Credentials the stand-ins accept (s3rver takes only these; dynalite takes anything). */
export const STANDIN_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
/** Env for a child process that should reach the stand-ins through the SDK's default credential chain. */
export const standinEnv = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

export interface Dynalite {
  endpoint: string;
  /** Creates a checkpoint table (pk/sk, see dynamodb-keys.ts) and waits until it is ACTIVE. */
  createTable(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startDynalite(): Promise<Dynalite> {
  const dynalite = require('dynalite') as (o: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((ok, fail) => server.listen(0, '127.0.0.1', () => ok()).once('error', fail));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: STANDIN_CREDENTIALS });
  return {
    endpoint,
    async createTable(name) {
      await client.send(new CreateTableCommand(checkpointTableDefinition(name)));
      for (let i = 0; i < 100; i++) {
        const t = await client.send(new DescribeTableCommand({ TableName: name }));
        if (t.Table?.TableStatus === 'ACTIVE') return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`table ${name} did not become ACTIVE`);
    },
    async stop() {
      client.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  store: { getMetadata(bucket: string, key: string): Promise<{ etag: string }> };
}

export interface S3StandIn {
  /** The condition-enforcing proxy: what stores under test talk to. */
  endpoint: string;
  /** s3rver itself (ignores If-Match / If-None-Match). */
  directEndpoint: string;
  createBucket(name: string): Promise<void>;
  /** Requests the proxy answered 412 / 404 on a condition (for assertions that the proxy did the work). */
  refused: { count: number };
  stop(): Promise<void>;
}

/**
 * s3rver plus a proxy that gives it what the S3 store relies on and s3rver lacks: conditional PUT/DELETE
 * (`If-None-Match: *`, `If-Match: <ETag>`, answered 412 PreconditionFailed -- or 404 NoSuchKey for If-Match
 * on a missing object -- like S3) and atomic per-object operations (every request on one object key is
 * serialised, so the check and the write cannot interleave and a reader never sees a half-written file).
 * Test harness only: the store always sends the real conditional headers.
 */
export async function startS3(): Promise<S3StandIn> {
  const S3rver = require('s3rver') as new (o: Record<string, unknown>) => S3rverInstance;
  const dir = await mkdtemp(join(tmpdir(), 'ferry-s3rver-'));
  const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
  const { port: upstreamPort } = await s3rver.run();
  const locks = new Map<string, Promise<void>>();
  const refused = { count: 0 };

  const serialised = async (key: string, fn: () => Promise<void>) => {
    const prev = locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = prev.then(() => new Promise<void>((r) => (release = r)));
    locks.set(key, mine);
    await prev;
    try {
      await fn();
    } finally {
      release();
      if (locks.get(key) === mine) locks.delete(key);
    }
  };

  const forward = (req: IncomingMessage, res: ServerResponse) =>
    new Promise<void>((done) => {
      const up = request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
        ur.on('end', () => done());
        ur.on('error', () => done());
      });
      up.on('error', (e) => {
        res.writeHead(502).end(String(e));
        done();
      });
      req.pipe(up);
    });

  const proxy = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const m = /^\/([^/]+)\/(.+)$/.exec(path);
    if (req.method === 'GET' && /[?&]list-type=2(&|$)/.test(req.url ?? '')) return void listV2AsV1(req, res, upstreamPort);
    if (!m) return void forward(req, res);
    const [, bucket, key] = m;
    void serialised(`${bucket}/${key}`, async () => {
      const ifMatch = req.headers['if-match'];
      const ifNoneMatch = req.headers['if-none-match'];
      const writes = req.method === 'PUT' || req.method === 'DELETE';
      if (writes && (ifMatch !== undefined || ifNoneMatch !== undefined)) {
        const etag = await s3rver.store.getMetadata(bucket, key).then((md) => md.etag, () => undefined);
        const fail =
          ifNoneMatch === '*' && etag !== undefined ? [412, 'PreconditionFailed', 'If-None-Match']
          : ifMatch !== undefined && etag === undefined ? [404, 'NoSuchKey', 'If-Match']
          : ifMatch !== undefined && ifMatch !== etag && ifMatch !== '*' ? [412, 'PreconditionFailed', 'If-Match']
          : undefined;
        if (fail) {
          refused.count++;
          req.resume();
          res.writeHead(fail[0] as number, { 'content-type': 'application/xml' });
          res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fail[1]}</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>${fail[2]}</Condition></Error>`);
          return;
        }
      }
      await forward(req, res);
    });
  });
  await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', () => ok()));
  const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: STANDIN_CREDENTIALS });
  return {
    endpoint,
    directEndpoint: `http://127.0.0.1:${upstreamPort}`,
    refused,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop() {
      client.destroy();
      proxy.closeAllConnections();
      await new Promise<void>((ok) => proxy.close(() => ok()));
      await s3rver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * ListObjectsV2 for s3rver: its V2 continuation tokens are DES-encrypted, which Node 20's OpenSSL 3 refuses,
 * so any truncated V2 listing is a 500 there. The proxy asks s3rver for the equivalent V1 listing (marker =
 * the last key seen, carried in our own continuation token) and answers in V2 form. The rewritten query no
 * longer matches the client's signature, so this one request goes upstream unsigned (s3rver lets anonymous
 * requests through); a request that came without an Authorization header at all is refused here.
 */
function listV2AsV1(req: IncomingMessage, res: ServerResponse, upstreamPort: number): void {
  const url = new URL(req.url ?? '/', 'http://proxy');
  if (!req.headers.authorization) {
    res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
    return;
  }
  const q = new URLSearchParams();
  for (const k of ['prefix', 'max-keys', 'delimiter']) if (url.searchParams.has(k)) q.set(k, url.searchParams.get(k)!);
  const token = url.searchParams.get('continuation-token');
  const marker = token ? Buffer.from(token, 'base64url').toString('utf8') : url.searchParams.get('start-after');
  if (marker) q.set('marker', marker);
  const headers = { ...req.headers };
  delete headers.authorization;
  const up = request({ host: '127.0.0.1', port: upstreamPort, method: 'GET', path: `${url.pathname}?${q}`, headers }, (ur) => {
    let body = '';
    ur.setEncoding('utf8');
    ur.on('data', (d) => (body += d));
    ur.on('end', () => {
      if (ur.statusCode === 200) {
        const keys = [...body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((k) => k[1]);
        const truncated = /<IsTruncated>true<\/IsTruncated>/.test(body) && keys.length > 0;
        const last = keys.length ? decodeXml(keys[keys.length - 1]) : '';
        const extra = `<KeyCount>${keys.length}</KeyCount>${truncated ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>` : ''}`;
        body = body.replace('</ListBucketResult>', `${extra}</ListBucketResult>`);
      }
      const h = { ...ur.headers };
      delete h['content-length'];
      res.writeHead(ur.statusCode ?? 502, h).end(body);
    });
  });
  up.on('error', (e) => res.writeHead(502).end(String(e)));
  up.end();
}

const decodeXml = (s: string): string =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n))).replace(/&amp;/g, '&');
