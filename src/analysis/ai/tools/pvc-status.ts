import { defineObjectTool } from './tool.js';
import { at } from '../../../domain/index.js';

export const pvcStatus = defineObjectTool(
  'pvc_status',
  'A PersistentVolumeClaim with its StorageClass and bound PersistentVolume.',
  'PersistentVolumeClaim',
  'status',
  async (claim, _input, context) => {
    const className = at(claim, 'spec', 'storageClassName');
    const storageClass =
      typeof className === 'string'
        ? await context.cluster.get({ kind: 'StorageClass', name: className })
        : undefined;
    const volumeName = at(claim, 'spec', 'volumeName');
    const volume =
      typeof volumeName === 'string' && volumeName
        ? await context.cluster.get({ kind: 'PersistentVolume', name: volumeName })
        : undefined;
    return {
      claim: { spec: claim.spec, status: claim.status },
      storageClass: storageClass
        ? {
            name: className,
            provisioner: storageClass.provisioner,
            volumeBindingMode: storageClass.volumeBindingMode,
            allowVolumeExpansion: storageClass.allowVolumeExpansion,
          }
        : typeof className === 'string'
          ? `${className} not found`
          : 'none (default class)',
      volume: volume
        ? {
            name: volumeName,
            phase: at(volume, 'status', 'phase'),
            nodeAffinity: at(volume, 'spec', 'nodeAffinity'),
            claimRef: at(volume, 'spec', 'claimRef', 'name'),
          }
        : null,
    };
  },
);
