/**
 * A real local HTTP pair that behaves like a StarRocks / Doris FE + BE for Stream Load, for tests "up to
 * the wire" (no such server runs on this machine):
 * - FE (its own port): answers every `PUT /api/{db}/{tb}/_stream_load` with 307 to the BE (another port, so
 *   a cross-origin redirect) WITHOUT reading the body (no 100 Continue).
 * - BE: checks Basic auth before `100 Continue` (401 otherwise), records the request (headers, parsed body),
 *   keeps labels (a committed label is answered "Label Already Exists"), applies rows to an in-memory table
 *   by key with the op column (`__op` / `__DORIS_DELETE_SIGN__`) and partial updates, and answers Fail with
 *   an ErrorURL when a row holds a value listed in `rejectValues`.
 * Faults: `dropNext` commits the next load and then cuts the connection (a lost answer), `failNext` answers
 * a retryable Fail once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedLoad {
  url: string;
  headers: http.IncomingHttpHeaders;
  rows: Array<Record<string, unknown>>;
  bodyBytes: number;
  /** What the BE answered. */
  status: string;
}

export interface FakeTable {
  keys: string[];
  rows: Map<string, Record<string, unknown>>;
}

export interface FakeStreamLoad {
  feUrl: string;
  beUrl: string;
  loads: RecordedLoad[];
  /** Attempts reaching the FE (redirected or not). */
  feHits: number;
  tables: Map<string, FakeTable>;
  labels: Set<string>;
  rejectValues: Set<string>;
  dropNext: number;
  failNext: number;
  defineTable(db: string, tb: string, keys: string[]): void;
  rowsOf(db: string, tb: string): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

const listen = (s: http.Server): Promise<number> =>
  new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

export async function startFakeStreamLoad(o: { user: string; password: string; opColumn: string }): Promise<FakeStreamLoad> {
  const be = http.createServer();
  const fe = http.createServer();
  const bePort = await listen(be);
  const fePort = await listen(fe);
  const expectedAuth = 'Basic ' + Buffer.from(`${o.user}:${o.password}`).toString('base64');
  const state: FakeStreamLoad = {
    feUrl: `http://127.0.0.1:${fePort}`,
    beUrl: `http://127.0.0.1:${bePort}`,
    loads: [],
    feHits: 0,
    tables: new Map(),
    labels: new Set(),
    rejectValues: new Set(),
    dropNext: 0,
    failNext: 0,
    defineTable(db, tb, keys) {
      this.tables.set(`${db}.${tb}`, { keys, rows: new Map() });
    },
    rowsOf(db, tb) {
      const t = this.tables.get(`${db}.${tb}`);
      return t ? [...t.rows.values()] : [];
    },
    close: async () => {
      await Promise.all([new Promise((r) => fe.close(r)), new Promise((r) => be.close(r))]);
    },
  };

  // FE: redirect before reading the body (what makes `Expect: 100-continue` pay off).
  const redirect = (req: http.IncomingMessage, res: http.ServerResponse) => {
    state.feHits++;
    res.writeHead(307, { Location: `${state.beUrl}${req.url}`, Connection: 'close' });
    res.end();
  };
  fe.on('checkContinue', redirect);
  fe.on('request', redirect);

  const json = (res: http.ServerResponse, body: unknown, status = 200) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  be.on('request', (req, res) => {
    if (req.method === 'GET' && req.url?.startsWith('/api/_load_error_log')) {
      res.end(`Error: Value too long for column c, value is "${new URL(req.url, state.beUrl).searchParams.get('v')}". Row: {...}\nsecond line\n`);
      return;
    }
    json(res, { Status: 'Fail', Message: 'expected a Stream Load PUT' }, 400);
  });
  be.on('checkContinue', (req, res) => {
    if (req.headers.authorization !== expectedAuth) {
      json(res, { Status: 'Fail', Message: 'Access denied for user' }, 401);
      return;
    }
    res.writeContinue();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const m = /^\/api\/([^/]+)\/([^/]+)\/_stream_load/.exec(req.url ?? '');
      const label = String(req.headers.label ?? '');
      const rec: RecordedLoad = { url: req.url ?? '', headers: req.headers, rows: [], bodyBytes: body.length, status: '' };
      state.loads.push(rec);
      try {
        rec.rows = JSON.parse(body.toString('utf8'));
      } catch {
        rec.status = 'Fail';
        return json(res, { Status: 'Fail', Message: 'body is not JSON', Label: label });
      }
      if (state.labels.has(label)) {
        rec.status = 'Label Already Exists';
        return json(res, { Status: 'Label Already Exists', ExistingJobStatus: 'FINISHED', Label: label, Message: `Label [${label}] has already been used.` });
      }
      const id = m ? `${decodeURIComponent(m[1])}.${decodeURIComponent(m[2])}` : '';
      const table = state.tables.get(id);
      if (!table) {
        rec.status = 'Fail';
        return json(res, { Status: 'Fail', Message: `Unknown table ${id}`, Label: label });
      }
      if (state.failNext > 0) {
        state.failNext--;
        rec.status = 'Fail';
        return json(res, { Status: 'Fail', Message: 'too many versions, retry later', Label: label });
      }
      const bad = rec.rows.flatMap((r) => Object.values(r)).find((v) => typeof v === 'string' && state.rejectValues.has(v));
      if (bad !== undefined) {
        rec.status = 'Fail';
        return json(res, { Status: 'Fail', Message: 'too many filtered rows', NumberFilteredRows: 1, Label: label, ErrorURL: `${state.beUrl}/api/_load_error_log?file=x&v=${encodeURIComponent(String(bad))}` });
      }
      const partial = req.headers.partial_update === 'true' || req.headers.partial_columns === 'true';
      for (const r of rec.rows) {
        const key = JSON.stringify(table.keys.map((k) => r[k]));
        const { [o.opColumn]: op, ...row } = r;
        if (op === 1) table.rows.delete(key);
        else table.rows.set(key, partial ? { ...table.rows.get(key), ...row } : row);
      }
      state.labels.add(label);
      rec.status = 'Success';
      if (state.dropNext > 0) {
        state.dropNext--;
        req.socket.destroy();
        return;
      }
      json(res, { TxnId: state.loads.length, Label: label, Status: 'Success', Message: 'OK', NumberTotalRows: rec.rows.length, NumberLoadedRows: rec.rows.length, NumberFilteredRows: 0 });
    });
  });
  return state;
}
