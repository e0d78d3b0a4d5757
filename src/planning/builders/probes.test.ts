import {
  advice,
  type BuilderRow,
  builderTable,
  change,
  containerChange,
  pod,
  workload,
} from '../../../test/support/builders.js';
import { probeFix } from './probes.js';

const api = workload('Deployment', 'checkout');
const httpProbe = { httpGet: { path: '/healthz', port: 8080 }, timeoutSeconds: 1, periodSeconds: 10 };

function checkoutPod(container: Record<string, unknown>): ReturnType<typeof pod> {
  return pod(
    'checkout-7d9f8b6c5d-x2x4q',
    { containers: [{ name: 'api', image: 'shop/checkout:3.4', ...container }] },
    { owner: 'checkout' },
  );
}

const LIVENESS: readonly BuilderRow[] = [
  {
    name: 'wrong port: the probe moves to the port the application listens on',
    details: { workload: api, container: 'api', probe: 'liveness', probePort: 8080, suggestedPort: 9090 },
    context: { podSpec: checkoutPod({ livenessProbe: httpProbe }) },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { livenessProbe: { httpGet: { port: 9090 } } }),
        { words: ['port 9090', 'The probe stays'] },
      ),
    ],
  },
  {
    name: 'wrong port of a tcpSocket probe: the tcpSocket handler moves',
    details: { workload: api, container: 'api', probe: 'liveness', probePort: 8080, suggestedPort: 9090 },
    context: { podSpec: checkoutPod({ livenessProbe: { tcpSocket: { port: 8080 } } }) },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { livenessProbe: { tcpSocket: { port: 9090 } } }),
      ),
    ],
  },
  {
    name: 'wrong scheme: an HTTP probe of a TLS endpoint switches to HTTPS',
    details: {
      workload: api,
      container: 'api',
      probe: 'liveness',
      httpStatus: 400,
      suggestedScheme: 'HTTPS',
    },
    context: { podSpec: checkoutPod({ livenessProbe: httpProbe }) },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { livenessProbe: { httpGet: { scheme: 'HTTPS' } } }),
        { words: ['use HTTPS'] },
      ),
    ],
  },
  {
    name: 'unauthenticated exec: both redis-cli probes read the password from the variable',
    details: {
      workload: workload('StatefulSet', 'sessions'),
      container: 'redis',
      probe: 'liveness',
      probeFailure: 'exec',
      authEnv: 'REDIS_PASSWORD',
    },
    context: {
      podSpec: pod('sessions-0', {
        containers: [
          {
            name: 'redis',
            image: 'redis:7.2',
            livenessProbe: { exec: { command: ['redis-cli', 'ping'] } },
            readinessProbe: { exec: { command: ['redis-cli', 'ping'] } },
          },
        ],
      }),
    },
    expect: [
      change(
        'StatefulSet shop/sessions',
        containerChange('redis', {
          livenessProbe: {
            exec: { command: ['sh', '-c', 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping'] },
          },
          readinessProbe: {
            exec: { command: ['sh', '-c', 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping'] },
          },
        }),
        { words: ['authenticate with $REDIS_PASSWORD', 'NOAUTH'] },
      ),
    ],
  },
  {
    name: 'wrong path: the probe moves to the path the application serves',
    details: {
      workload: api,
      container: 'api',
      probe: 'liveness',
      probePath: '/healthz',
      httpStatus: 404,
      suggestedPath: '/health',
    },
    context: { podSpec: checkoutPod({ livenessProbe: httpProbe }) },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { livenessProbe: { httpGet: { path: '/health' } } }),
        { words: ['/healthz answers HTTP 404', 'only its path changes'] },
      ),
    ],
  },
  {
    name: 'slow start: a startupProbe with the same check, and a longer liveness timeout',
    details: { workload: api, container: 'api', probe: 'liveness', probeFailure: 'timeout' },
    context: { podSpec: checkoutPod({ livenessProbe: httpProbe }) },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', {
          startupProbe: {
            failureThreshold: 30,
            periodSeconds: 10,
            httpGet: { path: '/healthz', port: 8080 },
          },
          livenessProbe: { timeoutSeconds: 5 },
        }),
        { words: ['Add a startupProbe', 'more time'] },
      ),
    ],
  },
  {
    name: 'slow start refused on connect: only the startupProbe',
    details: { workload: api, container: 'api', probe: 'liveness', probeFailure: 'connection-refused' },
    context: { podSpec: checkoutPod({ livenessProbe: { tcpSocket: { port: 8080 } } }) },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', {
          startupProbe: { failureThreshold: 30, periodSeconds: 10, tcpSocket: { port: 8080 } },
        }),
      ),
    ],
  },
  {
    name: 'slow answer with a startupProbe already there: a longer timeout',
    details: { workload: api, container: 'api', probe: 'liveness', probeFailure: 'timeout' },
    context: {
      podSpec: checkoutPod({
        livenessProbe: { ...httpProbe, timeoutSeconds: 2, failureThreshold: 5 },
        startupProbe: httpProbe,
      }),
    },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { livenessProbe: { timeoutSeconds: 6, failureThreshold: 5 } }),
        { words: ['a 6s timeout', 'after 2s'] },
      ),
    ],
  },
  {
    name: 'no strategy applies: the application reports unhealthy, a person investigates',
    details: {
      workload: api,
      container: 'api',
      probe: 'liveness',
      probeFailure: 'http-status',
      httpStatus: 503,
      probePort: 8080,
      probePath: '/healthz',
    },
    context: { podSpec: checkoutPod({ livenessProbe: httpProbe }) },
    expect: [
      advice('Deployment shop/checkout', [
        'Investigate why the liveness probe fails',
        'HTTP 503',
        'http://localhost:8080/healthz',
        'Do not remove the probe',
      ]),
    ],
  },
  {
    name: 'a bare pod: advice, nothing to patch',
    details: { container: 'api', probe: 'liveness', suggestedPort: 9090 },
    context: { podSpec: pod('debug-api', { containers: [{ name: 'api', livenessProbe: httpProbe }] }) },
    expect: [
      advice('Pod shop/debug-api', [
        'Fix the liveness probe',
        'Correct the livenessProbe of container api',
        'no controller',
      ]),
    ],
  },
];

const READINESS: readonly BuilderRow[] = [
  {
    name: 'wrong path of a readiness probe',
    details: {
      workload: api,
      container: 'api',
      probe: 'readiness',
      probePath: '/ready',
      httpStatus: 404,
      suggestedPath: '/readyz',
    },
    context: { podSpec: checkoutPod({ readinessProbe: { httpGet: { path: '/ready', port: 8080 } } }) },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { readinessProbe: { httpGet: { path: '/readyz' } } }),
      ),
    ],
  },
  {
    name: 'a readiness timeout never gets a startupProbe: a longer timeout',
    details: { workload: api, container: 'api', probe: 'readiness', probeFailure: 'timeout' },
    context: { podSpec: checkoutPod({ readinessProbe: httpProbe }) },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { readinessProbe: { timeoutSeconds: 5, failureThreshold: 3 } }),
      ),
    ],
  },
  {
    name: 'no strategy applies: advice names the readinessProbe',
    details: {
      workload: api,
      container: 'api',
      probe: 'readiness',
      probeFailure: 'http-status',
      httpStatus: 500,
    },
    context: { podSpec: checkoutPod({ readinessProbe: httpProbe }) },
    expect: [advice('Deployment shop/checkout', ['The readinessProbe of container api fails with HTTP 500'])],
  },
];

builderTable('liveness-probe-failure', probeFix, LIVENESS);
builderTable('readiness-probe-failure', probeFix, READINESS);
