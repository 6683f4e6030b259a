/**
 * A minimal AWS JSON 1.1 server (the protocol of Secrets Manager and the Redshift Data API): `POST /` with
 * `X-Amz-Target: <prefix>.<Operation>`, JSON in and out, errors as HTTP 4xx/5xx with `{"__type", "message"}` and
 * the `x-amzn-ErrorType` header, which the AWS SDK v3 clients turn into their modelled exception classes.
 *
 * Signatures (SigV4) are not checked: any credentials are accepted. Request bodies are never logged.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import type { AddressInfo, Socket } from 'net';
import { statementKind } from './faults';
import type { CallRecord, FaultAction, FaultInjector, ServiceName } from './faults';
import type { PolicyAuthorizer } from './iam';

/** An error the endpoint returns to the client as an AWS error response. */
export class AwsError extends Error {
  constructor(readonly code: string, message: string, readonly httpStatus = 400) {
    super(message);
    this.name = code;
  }
}

/** Who is calling: a rotation Lambda invocation (from the endpoint path `/fn/<workerId>/`) or anyone. */
export interface CallerContext {
  readonly functionArn: string;
  readonly invocationId: string;
  readonly workerId: string;
  readonly step?: string;
  readonly rotatedSecretArn?: string;
  /** The function's IAM, when it runs with a role policy (FunctionConfig.iam); undefined: no IAM checks. */
  readonly authorizer?: PolicyAuthorizer;
}

/** Resolves worker ids in request paths to the invocation running there, and kills workers for crash faults. */
export interface LambdaHost {
  callerFor(workerId: string): CallerContext | undefined;
  crashWorker(workerId: string, reason: string): Promise<void>;
}

/** An operation implementation. */
export type Operation = (input: any, call: { record: CallRecord; action?: FaultAction; caller?: CallerContext }) => Promise<unknown> | unknown;

export interface AwsJsonServerOptions {
  readonly service: ServiceName;
  /** The X-Amz-Target prefix, e.g. `secretsmanager` or `RedshiftData`. */
  readonly targetPrefix: string;
  readonly operations: Record<string, Operation>;
  readonly faults: FaultInjector;
  /** Extracts what the call log records (secret, statement kinds) and the SQL the fault matchers see. */
  readonly describe?: (operation: string, input: any) => { secretId?: string; sqls?: string[] };
  readonly lambdaHost?: () => LambdaHost | undefined;
  /** Extra delay before every request, in ms. */
  readonly latencyMs?: () => number;
  /**
   * Authorizes a call of a caller with IAM (`caller.authorizer`) before the operation runs; throws the service's
   * AwsError (AccessDeniedException) to refuse it.
   */
  readonly authorize?: (operation: string, input: any, caller: CallerContext & { authorizer: PolicyAuthorizer }) => Promise<void>;
}

export interface AwsJsonServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the server on 127.0.0.1 and a free port. */
export async function startAwsJsonServer(options: AwsJsonServerOptions): Promise<AwsJsonServer> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf-8')).catch(() => {
        if (!res.headersSent) send(res, 500, { __type: 'InternalFailure', message: 'internal error in the local endpoint' });
      });
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.keepAliveTimeout = 5000;

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body ?? {});
    const headers: Record<string, string | number> = {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    };
    if (status >= 400) headers['x-amzn-errortype'] = (body as { __type: string }).__type;
    res.writeHead(status, headers);
    res.end(text);
  };
  const sendError = (res: http.ServerResponse, e: AwsError) => send(res, e.httpStatus, { __type: e.code, message: e.message, Message: e.message });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const [prefix, operation] = target.split('.');
    if (req.method !== 'POST' || prefix !== options.targetPrefix || !operation) {
      return sendError(res, new AwsError('UnknownOperationException', `Unknown operation ${target}`));
    }
    const impl = options.operations[operation];
    if (!impl) return sendError(res, new AwsError('UnknownOperationException', `Unknown operation ${operation}`));
    let input: any;
    try {
      input = body ? JSON.parse(body) : {};
    } catch {
      return sendError(res, new AwsError('SerializationException', 'Malformed JSON request body'));
    }
    const workerId = /^\/fn\/([^/]+)\//.exec(req.url ?? '')?.[1];
    const host = options.lambdaHost?.();
    const caller = workerId ? host?.callerFor(workerId) : undefined;
    let described: { secretId?: string; sqls?: string[] } = {};
    try {
      described = options.describe?.(operation, input) ?? {};
    } catch { /* describing is best effort */ }
    const { action, record } = options.faults.onCall({
      service: options.service,
      operation,
      secretId: described.secretId,
      lambda: caller
        ? { functionArn: caller.functionArn, invocationId: caller.invocationId, step: caller.step, rotatedSecretArn: caller.rotatedSecretArn }
        : undefined,
      statementKinds: described.sqls?.map(statementKind),
    }, described.sqls);

    const extra = options.latencyMs?.() ?? 0;
    if (extra > 0) await sleep(extra);
    if (action?.type === 'latency' && !['ExecuteStatement', 'BatchExecuteStatement'].includes(operation)) await sleep(action.ms);
    if (action?.type === 'error' && action.when !== 'after') return sendError(res, faultError(action));
    if (action?.type === 'networkError') {
      res.socket?.destroy();
      return;
    }
    if (action?.type === 'crash' && action.when === 'before' && caller && host) {
      await host.crashWorker(caller.workerId, `crash fault before ${operation}`);
      res.socket?.destroy();
      return;
    }
    let result: unknown;
    try {
      if (caller?.authorizer && options.authorize) await options.authorize(operation, input, { ...caller, authorizer: caller.authorizer });
      result = await impl(input, { record, action, caller });
    } catch (e) {
      if (e instanceof AwsError) return sendError(res, e);
      if (process.env.LOCAL_STACK_DEBUG) process.stderr.write(`local endpoint error: ${(e as Error).stack}\n`);
      return sendError(res, new AwsError('InternalFailure', 'internal error in the local endpoint', 500));
    }
    if (action?.type === 'error' && action.when === 'after') return sendError(res, faultError(action));
    if (action?.type === 'crash' && action.when === 'after' && caller && host) {
      await host.crashWorker(caller.workerId, `crash fault after ${operation}`);
      res.socket?.destroy();
      return;
    }
    send(res, 200, result);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}

function faultError(action: Extract<FaultAction, { type: 'error' }>): AwsError {
  const status = action.httpStatus ?? (/Internal|ServiceUnavailable/.test(action.code) ? 500 : 400);
  return new AwsError(action.code, action.message ?? `Injected fault: ${action.code}`, status);
}
