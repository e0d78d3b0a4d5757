import { describe, expect, it } from 'vitest';
import {
  mergeWorldDocuments,
  parseWorld,
  parseWorldYaml,
  realMs,
  WorldError,
  worldWithOverlay,
} from './world.js';

describe('world file', () => {
  it('fills defaults for nodes, images and timing', () => {
    const world = parseWorld({ nodes: [{ name: 'node-a' }], images: { 'x:1': {} } });
    expect(world.nodes[0]).toMatchObject({
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      taints: [],
      conditions: {},
    });
    expect(world.images['x:1']).toMatchObject({
      memory: '64Mi',
      termExitCode: 143,
      user: '0',
      startSeconds: 1,
    });
    expect(world.timing).toMatchObject({ scale: 1, backoffInitialSeconds: 10, backoffMaxSeconds: 300 });
  });

  it('rejects unknown keys and bad values, naming the field', () => {
    expect(() => parseWorld({ nodes: [{ name: 'a', capacty: {} }] })).toThrow(
      /nodes\.0: Unrecognized key: "capacty"/,
    );
    expect(() => parseWorld({ timing: { scale: 0 } })).toThrow(/timing\.scale/);
    expect(() => parseWorld({ nodes: [{ name: 'a' }, { name: 'a' }] })).toThrow(/node a is listed twice/);
    expect(() => parseWorldYaml('nodes: [')).toThrow(WorldError);
  });

  it('merges a scenario world over the default: nodes by name, storage classes united, maps deep', () => {
    const merged = mergeWorldDocuments(
      {
        nodes: [{ name: 'a', labels: { zone: 'z1' } }, { name: 'b' }],
        storageClasses: ['standard'],
        timing: { scale: 0.1 },
        images: { 'x:1': { memory: '1Mi' } },
      },
      {
        nodes: [{ name: 'a', conditions: { Ready: 'False' } }, { name: 'b', remove: true }, { name: 'c' }],
        storageClasses: ['fast'],
        images: { 'y:1': {} },
      },
    );
    expect(merged).toEqual({
      nodes: [{ name: 'a', labels: { zone: 'z1' }, conditions: { Ready: 'False' } }, { name: 'c' }],
      storageClasses: ['standard', 'fast'],
      timing: { scale: 0.1 },
      images: { 'x:1': { memory: '1Mi' }, 'y:1': {} },
    });
  });

  it('the default world is valid and scaled for tests', () => {
    const { world } = worldWithOverlay();
    expect(world.nodes.map((n) => n.name)).toEqual(['sim-node-a', 'sim-node-b', 'sim-node-c']);
    expect(world.privateImages['registry.acme.io/billing:v3']).toBe('regcred');
    expect(realMs(world.timing, 10)).toBe(1000);
  });
});
