import {
  advice,
  builderTable,
  change,
  containerChange,
  deployment,
  type Manifest,
  pod,
  templatePatch,
  workload,
} from '../../../test/support/builders.js';
import { securityContext } from './security-context.js';

const api = workload('Deployment', 'checkout');
const checkout = (podSpec: Record<string, unknown>): Manifest => deployment('checkout', podSpec);
const tmpMount = { name: 'cache', mountPath: '/var/cache/app' };

builderTable('security-context', securityContext, [
  {
    name: 'non-root user: an explicit non-root UID, for a person to approve (minimum risk high)',
    details: { workload: api, container: 'api', securityProblem: 'run-as-root' },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', {
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 },
        }),
        { minimumRisk: 'high', words: ['non-root UID 65532', 'runAsNonRoot stays'] },
      ),
    ],
  },
  {
    name: 'pod security: exactly the fields the checks name, on every container',
    details: {
      workload: api,
      securityProblem: 'pod-security',
      podSecurityChecks: [
        'allowPrivilegeEscalation != false (containers "api", "proxy" must set securityContext.allowPrivilegeEscalation=false)',
        'unrestricted capabilities (containers "api", "proxy" must set securityContext.capabilities.drop=["ALL"])',
        'seccompProfile (pod or containers "api", "proxy" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
      ],
    },
    context: { resources: [checkout({ containers: [{ name: 'api' }, { name: 'proxy' }] })] },
    expect: [
      change(
        'Deployment shop/checkout',
        templatePatch({
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          containers: ['api', 'proxy'].map((name) => ({
            name,
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          })),
        }),
        { words: ["comply with the namespace's PodSecurity level", "never relaxes the namespace's policy"] },
      ),
    ],
  },
  {
    name: 'group-writable volume: fsGroup of the user the container runs as',
    details: {
      workload: api,
      container: 'api',
      securityProblem: 'filesystem',
      writablePath: '/var/cache/app/index.db',
    },
    context: {
      resources: [
        checkout({
          securityContext: { runAsUser: 10001 },
          containers: [{ name: 'api', securityContext: { runAsGroup: 3000 }, volumeMounts: [tmpMount] }],
        }),
      ],
    },
    expect: [
      change(
        'Deployment shop/checkout',
        templatePatch({ securityContext: { fsGroup: 3000, fsGroupChangePolicy: 'OnRootMismatch' } }),
        { words: ['Set fsGroup 3000', 'volume cache at /var/cache/app is owned by root'] },
      ),
    ],
  },
  {
    name: 'scratch volume: an emptyDir where the application writes on a read-only root',
    details: {
      workload: api,
      container: 'api',
      securityProblem: 'filesystem',
      writablePath: '/var/run/app/app.pid',
      readOnlyFilesystem: true,
    },
    context: { resources: [checkout({ containers: [{ name: 'api', volumeMounts: [tmpMount] }] })] },
    expect: [
      change(
        'Deployment shop/checkout',
        templatePatch({
          volumes: [{ name: 'writable-var-run-app', emptyDir: {} }],
          containers: [
            { name: 'api', volumeMounts: [{ name: 'writable-var-run-app', mountPath: '/var/run/app' }] },
          ],
        }),
        { words: ['Mount a writable emptyDir at /var/run/app', 'read-only root filesystem'] },
      ),
    ],
  },
  {
    name: 'scratch volume: anything under /tmp gets /tmp',
    details: {
      workload: api,
      container: 'api',
      securityProblem: 'filesystem',
      writablePath: '/tmp/uploads/x',
    },
    expect: [
      change(
        'Deployment shop/checkout',
        templatePatch({
          volumes: [{ name: 'writable-tmp', emptyDir: {} }],
          containers: [{ name: 'api', volumeMounts: [{ name: 'writable-tmp', mountPath: '/tmp' }] }],
        }),
      ),
    ],
  },
  {
    name: 'no strategy applies to host access PodSecurity forbids: advice, never a relaxation',
    rootCause: 'PodSecurity "restricted" forbids hostPath volumes.',
    details: {
      workload: api,
      securityProblem: 'pod-security',
      podSecurityChecks: ['restricted volume types (volume "logs" uses hostPath)'],
    },
    context: { resources: [checkout({ containers: [{ name: 'api' }] })] },
    expect: [
      advice('Deployment shop/checkout', [
        'Give the process the filesystem access it needs, without root',
        'forbids hostPath volumes',
      ]),
    ],
  },
  {
    name: 'no strategy applies to a volume owned by root when the user is unknown',
    details: {
      workload: api,
      container: 'api',
      securityProblem: 'filesystem',
      writablePath: '/var/cache/app/x',
    },
    context: { resources: [checkout({ containers: [{ name: 'api', volumeMounts: [tmpMount] }] })] },
    expect: [advice('Deployment shop/checkout', ['Do not run the container as root'])],
  },
  {
    name: 'no strategy applies to a bare pod: advice',
    rootCause: 'Container api must not run as root.',
    details: { container: 'api', securityProblem: 'run-as-root' },
    context: { podSpec: pod('debug-api', { containers: [{ name: 'api' }] }) },
    expect: [advice('Pod shop/debug-api', ['Fix the securityContext', 'must not run as root'])],
  },
]);
