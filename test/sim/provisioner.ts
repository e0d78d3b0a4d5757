// A simulated external provisioner: StorageClasses for the world's `storageClasses`
// (provisioner kubemend.io/sim-provisioner, Immediate binding; the first one is the default)
// and a PersistentVolume for every pending claim of those classes. The real
// persistentvolume-controller binds them, and reports claims of unknown classes itself.
import * as k8s from '@kubernetes/client-node';
import type {
  CoreV1Api,
  StorageV1Api,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
} from '@kubernetes/client-node';
import { EventRecorder, describeError } from './events.js';
import { SIM_LABEL } from './nodes.js';

export const PROVISIONER = 'kubemend.io/sim-provisioner';

export class Provisioner {
  private classes = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly recorder: EventRecorder;

  constructor(
    private readonly core: CoreV1Api,
    private readonly storage: StorageV1Api,
    private readonly log: (message: string) => void,
  ) {
    this.recorder = new EventRecorder(core, { component: `${PROVISIONER}_kubemend-sim` }, log);
  }

  async applyClasses(names: readonly string[]): Promise<void> {
    this.classes = new Set(names);
    const existing = await this.storage.listStorageClass({ labelSelector: `${SIM_LABEL}=true` });
    for (const sc of existing.items) {
      const name = sc.metadata?.name ?? '';
      if (!this.classes.has(name)) await this.storage.deleteStorageClass({ name }).catch(() => undefined);
    }
    for (const [index, name] of names.entries()) {
      const body = {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: {
          name,
          labels: { [SIM_LABEL]: 'true' },
          annotations: { 'storageclass.kubernetes.io/is-default-class': index === 0 ? 'true' : 'false' },
        },
        provisioner: PROVISIONER,
        reclaimPolicy: 'Delete',
        volumeBindingMode: 'Immediate',
        allowVolumeExpansion: true,
      };
      try {
        await this.storage.createStorageClass({ body });
      } catch (error) {
        if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
        await this.storage.patchStorageClass(
          { name, body: { metadata: body.metadata } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
      }
    }
  }

  async onClaim(claim: V1PersistentVolumeClaim): Promise<void> {
    const uid = claim.metadata?.uid ?? '';
    const className = claim.spec?.storageClassName;
    if (
      claim.status?.phase !== 'Pending' ||
      claim.spec?.volumeName ||
      !className ||
      !this.classes.has(className)
    )
      return;
    if (claim.metadata?.deletionTimestamp || this.inFlight.has(uid)) return;
    this.inFlight.add(uid);
    const namespace = claim.metadata?.namespace ?? '';
    const name = claim.metadata?.name ?? '';
    const ref = {
      kind: 'PersistentVolumeClaim',
      namespace,
      name,
      uid,
      apiVersion: 'v1',
      resourceVersion: claim.metadata?.resourceVersion ?? '',
    };
    const volume = `pvc-${uid}`;
    try {
      void this.recorder.record({
        type: 'Normal',
        reason: 'Provisioning',
        message: `External provisioner is provisioning volume for claim "${namespace}/${name}"`,
        involvedObject: ref,
      });
      const pv: V1PersistentVolume = {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: {
          name: volume,
          annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER },
          labels: { [SIM_LABEL]: 'true' },
        },
        spec: {
          capacity: { storage: claim.spec?.resources?.requests?.['storage'] ?? '1Gi' },
          accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Delete',
          storageClassName: className,
          volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
          claimRef: {
            kind: 'PersistentVolumeClaim',
            apiVersion: 'v1',
            namespace,
            name,
            uid,
            resourceVersion: claim.metadata?.resourceVersion ?? '',
          },
          hostPath: { path: `/var/lib/kubemend-sim/volumes/${volume}`, type: 'DirectoryOrCreate' },
        },
      };
      try {
        await this.core.createPersistentVolume({ body: pv });
      } catch (error) {
        if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
      }
      void this.recorder.record({
        type: 'Normal',
        reason: 'ProvisioningSucceeded',
        message: `Successfully provisioned volume ${volume}`,
        involvedObject: ref,
      });
    } catch (error) {
      this.log(`provisioning ${namespace}/${name}: ${describeError(error)}`);
      this.inFlight.delete(uid);
    }
  }

  /** Released volumes of ours with reclaim policy Delete are deleted, as an external provisioner does. */
  async onVolume(volume: V1PersistentVolume): Promise<void> {
    const ours = volume.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] === PROVISIONER;
    if (
      !ours ||
      volume.status?.phase !== 'Released' ||
      volume.spec?.persistentVolumeReclaimPolicy !== 'Delete'
    )
      return;
    try {
      await this.core.deletePersistentVolume({ name: volume.metadata?.name ?? '' });
      this.inFlight.delete(volume.spec?.claimRef?.uid ?? '');
    } catch (error) {
      if (!(error instanceof k8s.ApiException && error.code === 404))
        this.log(`deleting ${volume.metadata?.name}: ${describeError(error)}`);
    }
  }
}
