/**
 * Slots are one parameter: `slotsPerExecutor` in the Bicep becomes the host.json overrides that
 * give each executor instance its concurrency, and slots × maximum instances becomes the
 * driver's default parallelism. These tests evaluate the templates' own expressions and feed
 * them to the code that consumes them (the queue-trigger-options rules the Functions host follows, the
 * local fabric's slot environment, the driver's connection settings).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { slotsEnv } from '../../contract/local-host-process.js';
import {
  HOST_OVERRIDE_PREFIX,
  resolveQueueTriggerOptions,
  slotCount,
} from '../../contract/queue-trigger-options.js';
import { resolveAzureConnection } from '../../driver/fabric/azure.js';
import { PACKAGE_ROOT } from '../helpers/dist.js';
import { bicepAppSettings, FUNCTION_APP_BICEP } from './app-settings.js';
import { evaluate, INFRA_DIR, moduleParams, outputs, params, readBicep } from './bicep-text.js';

const MAIN = readBicep('main.bicep');
const hostJson = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'executor-function', 'host.json'), 'utf8'));
const SLOT_SETTINGS = [`${HOST_OVERRIDE_PREFIX}batchSize`, `${HOST_OVERRIDE_PREFIX}newBatchThreshold`];

/** The app settings the module would write for these parameter values (slot-related ones). */
function deployedSlotSettings(
  slotsPerExecutor: number,
  maximumInstanceCount: number,
): Record<string, string> {
  const settings = bicepAppSettings();
  const scope = { slotsPerExecutor, maximumInstanceCount };
  const out: Record<string, string> = {};
  for (const name of [...SLOT_SETTINGS, 'STRATUS_TOTAL_SLOTS']) {
    const expr = settings.get(name);
    if (expr === undefined) throw new Error(`function-app.bicep does not set ${name}`);
    const value = evaluate(expr, scope);
    // App settings are strings; a number here would be a type error at deployment.
    expect(typeof value, `${name} must be a string expression`).toBe('string');
    out[name] = String(value);
  }
  return out;
}

describe('slots per executor flow from one Bicep parameter', () => {
  const moduleParamDecls = params(FUNCTION_APP_BICEP);
  const mainParamDecls = params(MAIN);
  const slotsParam = mainParamDecls.get('slotsPerExecutor')!;
  const maxParam = mainParamDecls.get('maximumInstanceCount')!;

  it('main.bicep and the function-app module declare the same bounds for both parameters', () => {
    for (const name of ['slotsPerExecutor', 'maximumInstanceCount']) {
      const main = mainParamDecls.get(name);
      const mod = moduleParamDecls.get(name);
      expect(main?.type).toBe('int');
      expect(mod?.type).toBe('int');
      expect([main?.minValue, main?.maxValue]).toEqual([mod?.minValue, mod?.maxValue]);
    }
    expect(slotsParam.minValue).toBe(1);
    const passed = moduleParams(MAIN, 'functionApp').params;
    expect(passed.get('slotsPerExecutor')).toBe('slotsPerExecutor');
    expect(passed.get('maximumInstanceCount')).toBe('maximumInstanceCount');
  });

  it('the app settings give each instance exactly slotsPerExecutor slots under the host.json rules, on any core count', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: slotsParam.minValue!, max: slotsParam.maxValue! }),
        fc.integer({ min: maxParam.minValue!, max: maxParam.maxValue! }),
        fc.integer({ min: 1, max: 16 }),
        (slots, instances, processors) => {
          const env = deployedSlotSettings(slots, instances);
          const options = resolveQueueTriggerOptions(hostJson, env, processors);
          expect(options.batchSize).toBe(1);
          expect(slotCount(options)).toBe(slots);
        },
      ),
    );
  });

  it('the deployed settings are the ones the local fabric gives its executors', () => {
    for (const slots of [1, 2, 4, 16, slotsParam.maxValue!]) {
      const deployed = deployedSlotSettings(slots, 40);
      const local = slotsEnv(slots);
      for (const name of SLOT_SETTINGS) expect(deployed[name]).toBe(local[name]);
    }
  });

  it('the STRATUS_TOTAL_SLOTS app setting, the module output and the main output all equal slots × maximum instances', () => {
    const moduleOut = outputs(FUNCTION_APP_BICEP).get('totalSlots');
    const mainOut = outputs(MAIN).get('STRATUS_TOTAL_SLOTS');
    expect(moduleOut?.type).toBe('int');
    expect(mainOut).toEqual({ type: 'int', expr: 'functionApp.outputs.totalSlots' });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 1000 }), (slots, instances) => {
        const scope = { slotsPerExecutor: slots, maximumInstanceCount: instances };
        expect(evaluate(moduleOut!.expr, scope)).toBe(slots * instances);
        expect(deployedSlotSettings(slots, instances).STRATUS_TOTAL_SLOTS).toBe(String(slots * instances));
      }),
    );
    expect(outputs(MAIN).get('STRATUS_SLOTS_PER_EXECUTOR')?.expr).toBe('slotsPerExecutor');
    expect(outputs(MAIN).get('STRATUS_MAX_INSTANCES')?.expr).toBe('maximumInstanceCount');
  });

  it('the driver takes its default parallelism from the deployment outputs azd writes to the environment', () => {
    const slots = Number(slotsParam.defaultExpr);
    const instances = Number(maxParam.defaultExpr);
    const env = {
      STRATUS_ACCOUNT: 'ststratusabc123',
      STRATUS_TASK_QUEUE: 'stratus-tasks',
      STRATUS_TOTAL_SLOTS: String(
        evaluate('slotsPerExecutor * maximumInstanceCount', {
          slotsPerExecutor: slots,
          maximumInstanceCount: instances,
        }),
      ),
    };
    const connection = resolveAzureConnection({ env });
    expect(connection.totalSlots).toBe(slots * instances);
    expect(connection.mode).toBe('azure');
  });

  it('the instance memory output is the memory the plan is deployed with, and the driver reads it for the cost', () => {
    expect(outputs(MAIN).get('STRATUS_INSTANCE_MEMORY_MB')).toEqual({
      type: 'int',
      expr: 'instanceMemoryMB',
    });
    expect(moduleParams(MAIN, 'functionApp').params.get('instanceMemoryMB')).toBe('instanceMemoryMB');
    const memory = mainParamDecls.get('instanceMemoryMB')!;
    for (const mb of memory.allowed!) {
      const env = { STRATUS_ACCOUNT: 'ststratusabc123', STRATUS_INSTANCE_MEMORY_MB: String(mb) };
      expect(resolveAzureConnection({ env }).instanceMemoryMb).toBe(Number(mb));
    }
  });

  it('without STRATUS_TOTAL_SLOTS the driver plans for the slots × instances outputs', () => {
    const env = {
      STRATUS_ACCOUNT: 'ststratusabc123',
      STRATUS_SLOTS_PER_EXECUTOR: '3',
      STRATUS_MAX_INSTANCES: '7',
    };
    expect(resolveAzureConnection({ env }).totalSlots).toBe(21);
    expect(resolveAzureConnection({ env: { ...env, STRATUS_TOTAL_SLOTS: '5' } }).totalSlots).toBe(5);
  });

  it('main.parameters.json defaults agree with main.bicep defaults', () => {
    const file = readFileSync(path.join(INFRA_DIR, 'main.parameters.json'), 'utf8');
    const parameters = JSON.parse(file).parameters as Record<string, { value: string }>;
    for (const [name, { value }] of Object.entries(parameters)) {
      const decl = mainParamDecls.get(name);
      expect(decl, `main.bicep has no param ${name}`).toBeDefined();
      const withDefault = /^\$\{(\w+)=([^}]*)\}$/.exec(value);
      if (withDefault && decl?.defaultExpr !== undefined) {
        const bicepDefault = decl.defaultExpr.replace(/^'(.*)'$/, '$1');
        expect(withDefault[2], `default of ${name}`).toBe(bicepDefault);
      }
    }
    for (const [name, decl] of mainParamDecls) {
      // azd generates a value for a parameter whose metadata says `type: 'generate'` (the signing key).
      const declaredAt = MAIN.indexOf(`param ${name} `);
      const decorators = MAIN.slice(MAIN.lastIndexOf('\nparam ', declaredAt - 2) + 1, declaredAt);
      const generated = /@metadata\(\{\s*azd: \{\s*type: 'generate'/.test(decorators);
      if (decl.defaultExpr === undefined && !generated)
        expect(parameters[name], `required param ${name}`).toBeDefined();
    }
    expect(
      parameters.signingKey,
      'azd generates the signing key; a value here would bypass that',
    ).toBeUndefined();
  });
});
