import { describe, expect, it } from 'vitest';
import type { ZooModel } from '../scripts/zoo/models.ts';
import { acceptancePlan, checkZooTable, loadZooTable, parseZooArgs, selectModels } from '../scripts/zoo/models.ts';
import type { ZooResult } from '../scripts/zoo/report.ts';
import {
  anyProblem, compareOutputs, formatSummary, formatTable, maskAgreement, median, sci, summarize, tolerance, top1Agreement, verdict,
} from '../scripts/zoo/report.ts';

const TABLE: ZooModel[] = [
  { name: 'alexnet', family: 'AlexNet', task: 'classification', side: 224, sideRanges: [[223, 254], [415, 446]], ci: true, ciSide: 224 },
  { name: 'resnet18', family: 'ResNet', task: 'classification', side: 224, ci: true, ciSide: 64 },
  { name: 'resnet50', family: 'ResNet', task: 'classification', side: 224 },
  { name: 'mobilenet_v3_small', family: 'MobileNet V3', task: 'classification', side: 224, ci: true, ciSide: 64 },
  { name: 'inception_v3', family: 'Inception v3', task: 'classification', side: 299, ci: true, ciSide: 96 },
  { name: 'fcn_resnet50', family: 'FCN', task: 'segmentation', side: 224 },
];

const names = (picks: { model: ZooModel }[]) => picks.map((p) => p.model.name);

describe('zoo arguments', () => {
  it('has defaults', () => {
    expect(parseZooArgs([])).toEqual({
      models: undefined, families: undefined, ci: false, task: 'all', opset: 13, batch: 1, side: undefined, runs: 3, seed: 0,
      cache: undefined, out: undefined, acceptance: false, help: false,
    });
  });

  it('--acceptance: the classification matrix, narrowed by --family only', () => {
    const o = parseZooArgs(['--acceptance', '--family', 'resnet', '--runs', '1', '--cache', '/tmp/c']);
    expect([o.acceptance, o.task, o.families, o.runs, o.cache]).toEqual([true, 'classification', ['resnet'], 1, '/tmp/c']);
    expect(parseZooArgs(['--acceptance', '--task', 'classification']).task).toBe('classification');
    expect(() => parseZooArgs(['--acceptance', '--opset', '13', '--side', '96'])).toThrow('--acceptance sets the models, opsets, batches and sides itself: it does not combine with --opset, --side');
    expect(() => parseZooArgs(['--acceptance', '--ci'])).toThrow('does not combine with --ci');
    expect(() => parseZooArgs(['--acceptance', '--models', 'resnet18'])).toThrow('does not combine with --models');
    expect(() => parseZooArgs(['--acceptance', '--batch', '2'])).toThrow('does not combine with --batch');
    expect(() => parseZooArgs(['--acceptance', '--task', 'segmentation'])).toThrow('--acceptance covers the classification models only');
  });

  it('reads lists and numbers', () => {
    const o = parseZooArgs(['--models', 'resnet18, mobilenet_v2,', '--opset', '17', '--batch', '2', '--side', '96', '--runs', '5', '--cache', '/tmp/c']);
    expect(o.models).toEqual(['resnet18', 'mobilenet_v2']);
    expect([o.opset, o.batch, o.side, o.runs, o.cache]).toEqual([17, 2, 96, 5, '/tmp/c']);
    expect(parseZooArgs(['--family', 'resnet,MobileNet V3', '--ci']).families).toEqual(['resnet', 'MobileNet V3']);
  });

  it('refuses what it does not take, with a one-line reason', () => {
    expect(() => parseZooArgs(['--opset', '10'])).toThrow('--opset must be an integer from 11 to 17, got "10"');
    expect(() => parseZooArgs(['--opset', '13.5'])).toThrow('--opset');
    expect(() => parseZooArgs(['--runs=-1'])).toThrow('--runs must be an integer from 0 to 1000, got "-1"');
    expect(parseZooArgs(['--runs', '0']).runs).toBe(0);
    expect(() => parseZooArgs(['--seed=-1'])).toThrow('--seed must be an integer from 0 up');
    expect(() => parseZooArgs(['--batch', 'two'])).toThrow('--batch');
    expect(() => parseZooArgs(['--task', 'detection'])).toThrow('--task must be classification, segmentation or all');
    expect(() => parseZooArgs(['--models', 'resnet18', '--ci'])).toThrow('does not combine');
    expect(() => parseZooArgs(['--models', ','])).toThrow('--models is empty');
    expect(() => parseZooArgs(['--bogus'])).toThrow();
    expect(() => parseZooArgs(['resnet18'])).toThrow();
  });
});

describe('zoo model selection', () => {
  const all = { ci: false, task: 'all' as const };

  it('takes every model at its own side by default', () => {
    const picks = selectModels(TABLE, all);
    expect(names(picks)).toEqual(TABLE.map((m) => m.name));
    expect(picks.map((p) => p.side)).toEqual([224, 224, 224, 224, 299, 224]);
    expect(picks.every((p) => !p.skip)).toBe(true);
  });

  it('--ci: the flagged models at their CI sides', () => {
    const picks = selectModels(TABLE, { ...all, ci: true });
    expect(picks.map((p) => `${p.model.name}@${p.side}`)).toEqual(['alexnet@224', 'resnet18@64', 'mobilenet_v3_small@64', 'inception_v3@96']);
  });

  it('--models in the order given, any spelling of case, - and _', () => {
    expect(names(selectModels(TABLE, { ...all, models: ['ResNet-50', 'alexnet'] }))).toEqual(['resnet50', 'alexnet']);
    expect(() => selectModels(TABLE, { ...all, models: ['resnet19'] })).toThrow('unknown model "resnet19" (did you mean resnet18, resnet50?)');
    // bare() makes these two the same name: the exact one wins.
    const regnets: ZooModel[] = ['regnet_x_1_6gf', 'regnet_x_16gf'].map((name) => ({ name, family: 'RegNet X', task: 'classification', side: 224 }));
    expect(names(selectModels(regnets, { ...all, models: ['regnet_x_16gf', 'regnet_x_1_6gf'] }))).toEqual(['regnet_x_16gf', 'regnet_x_1_6gf']);
  });

  it('--family, alone or with --ci; --task', () => {
    expect(names(selectModels(TABLE, { ...all, families: ['resnet'] }))).toEqual(['resnet18', 'resnet50']);
    expect(names(selectModels(TABLE, { ...all, families: ['mobilenet-v3', 'Inception V3'] }))).toEqual(['mobilenet_v3_small', 'inception_v3']);
    expect(names(selectModels(TABLE, { ...all, families: ['resnet'], ci: true }))).toEqual(['resnet18']);
    expect(() => selectModels(TABLE, { ...all, families: ['vit'] })).toThrow('unknown family "vit" (known: AlexNet, ResNet, MobileNet V3, Inception v3, FCN)');
    expect(names(selectModels(TABLE, { ...all, task: 'segmentation' }))).toEqual(['fcn_resnet50']);
    expect(names(selectModels(TABLE, { ...all, task: 'classification' }))).not.toContain('fcn_resnet50');
  });

  it('--side overrides; a side torch cannot export at is skipped with the sides it can', () => {
    const picks = selectModels(TABLE, { ...all, side: 96, models: ['alexnet', 'resnet18'] });
    expect(picks.map((p) => p.side)).toEqual([96, 96]);
    expect(picks[0].skip).toBe('torch exports alexnet only at sides 223-254, 415-446');
    expect(picks[1].skip).toBeUndefined();
  });

  it('the real table: unique names, a CI model in every classification family, every issue #16 family', () => {
    const table = loadZooTable();
    const families = new Set(table.filter((m) => m.task === 'classification').map((m) => m.family));
    for (const f of families) expect(table.some((m) => m.family === f && m.ci), f).toBe(true);
    for (const name of ['alexnet', 'vgg19_bn', 'resnet152', 'resnext101_64x4d', 'wide_resnet101_2', 'squeezenet1_0', 'densenet201', 'googlenet',
      'inception_v3', 'shufflenet_v2_x2_0', 'mobilenet_v2', 'mobilenet_v3_large', 'mnasnet1_3', 'efficientnet_b7', 'efficientnet_v2_l',
      'regnet_x_32gf', 'regnet_y_128gf', 'convnext_large', 'deeplabv3_mobilenet_v3_large']) {
      expect(table.map((m) => m.name)).toContain(name);
    }
    expect(table.find((m) => m.name === 'inception_v3')?.side).toBe(299);
  });

  it('--acceptance plan: every model small, the CI ones at their own side, opsets 11-17, batch 2, odd sides', () => {
    const plan = acceptancePlan(TABLE, {});
    const text = plan.map((s) => `${s.label}: ${s.picks.map((p) => `${p.model.name}@${p.side}`).join(' ')} (opset ${s.opset}, batch ${s.batch})`);
    expect(text).toEqual([
      'every model, small side: alexnet@224 resnet18@64 resnet50@64 mobilenet_v3_small@64 inception_v3@96 (opset 13, batch 1)',
      'own side: resnet18@224 mobilenet_v3_small@224 inception_v3@299 (opset 13, batch 1)',
      ...[11, 12, 14, 15, 16, 17].map((opset) => `opset ${opset}: alexnet@224 resnet18@64 mobilenet_v3_small@64 inception_v3@96 (opset ${opset}, batch 1)`),
      'batch 2: alexnet@224 resnet18@64 mobilenet_v3_small@64 inception_v3@96 (opset 13, batch 2)',
      // AlexNet exports only at 223-254 and 415-446.
      'side 97: resnet18@97 mobilenet_v3_small@97 inception_v3@97 (opset 13, batch 1)',
      'side 131: resnet18@131 mobilenet_v3_small@131 inception_v3@131 (opset 13, batch 1)',
    ]);
    expect(plan.every((s) => s.picks.every((p) => !p.skip))).toBe(true);
    // A model outside the CI set, with side ranges, goes to the nearest side torch exports it at.
    const vgg: ZooModel = { name: 'vgg11', family: 'VGG', task: 'classification', side: 224, sideRanges: [[224, 255], [448, 479]] };
    expect(acceptancePlan([vgg], {})[0].picks).toEqual([{ model: vgg, side: 224 }]);
    const resnets = acceptancePlan(TABLE, { families: ['resnet'] });
    expect(resnets[0].picks.map((p) => p.model.name)).toEqual(['resnet18', 'resnet50']);
    expect(resnets.slice(1).every((s) => s.picks.every((p) => p.model.name === 'resnet18'))).toBe(true);
  });

  it('checks the table', () => {
    expect(() => checkZooTable([TABLE[1], TABLE[1]])).toThrow('resnet18 is listed twice');
    expect(() => checkZooTable([{ ...TABLE[1], ciSide: undefined }])).toThrow('without a ciSide');
    expect(() => checkZooTable([{ ...TABLE[1], task: 'detection' as never }])).toThrow('task detection');
  });
});

describe('zoo checks', () => {
  it('tolerance is 1e-4 x max|ref| + 1e-5', () => {
    expect(tolerance(0)).toBe(1e-5);
    expect(tolerance(10)).toBeCloseTo(1.01e-3, 12);
  });

  it('compares within and beyond the tolerance', () => {
    const ref = new Float32Array([1, -10, 3]);
    const near = compareOutputs(new Float32Array([1.0005, -10, 3]), ref);
    expect(near.maxAbsRef).toBe(10);
    expect(near.maxAbsErr).toBeCloseTo(5e-4, 6);
    expect(near.withinTolerance).toBe(true);
    expect(compareOutputs(new Float32Array([1.002, -10, 3]), ref).withinTolerance).toBe(false);
  });

  it('a NaN or a size mismatch is the worst error', () => {
    const ref = new Float32Array([1, 2]);
    expect(compareOutputs(new Float32Array([NaN, 2]), ref).maxAbsErr).toBe(Infinity);
    expect(compareOutputs(new Float32Array([1, NaN]), ref).withinTolerance).toBe(false);
    expect(compareOutputs(new Float32Array([1]), ref).maxAbsErr).toBe(Infinity);
  });

  it('top-1 per batch row, with ties', () => {
    const ref = new Float32Array([0, 5, 1, /* row 2 */ 3, 2.9999, 0]);
    expect(top1Agreement(new Float32Array([0, 4, 1, 3, 2, 0]), ref, 2)).toEqual({ agree: 2, total: 2, ties: 0 });
    expect(top1Agreement(new Float32Array([0, 4, 1, 2.9, 3, 0]), ref, 2)).toEqual({ agree: 1, total: 2, ties: 0 });
    expect(top1Agreement(new Float32Array([0, 4, 1, 2.9, 3, 0]), ref, 2, 1e-3)).toEqual({ agree: 1, total: 2, ties: 1 });
  });

  it('mask agreement per pixel over NCHW scores', () => {
    // 1 x 2 classes x 1 x 3: reference classes per pixel 1, 0, 1.
    const ref = new Float32Array([0, 1, 0, /* class 1 */ 1, 0, 1]);
    const got = new Float32Array([0, 1, 1, 1, 0, 0]);
    expect(maskAgreement(got, ref, [1, 2, 1, 3])).toEqual({ agree: 2, total: 3, ties: 0 });
  });

  it('verdict: tolerance and top-1 (ties excepted); segmentation by tolerance and 99.9% of mask pixels', () => {
    const ok = compareOutputs(new Float32Array([1]), new Float32Array([1]));
    const bad = compareOutputs(new Float32Array([2]), new Float32Array([1]));
    expect(verdict('classification', ok, { agree: 1, total: 1, ties: 0 })).toEqual({ status: 'pass' });
    expect(verdict('classification', ok, { agree: 0, total: 1, ties: 1 })).toEqual({ status: 'pass' });
    expect(verdict('classification', ok, { agree: 1, total: 2, ties: 0 })).toEqual({ status: 'fail', message: 'top-1 differs in 1 of 2 rows' });
    expect(verdict('classification', bad, { agree: 1, total: 1, ties: 0 }).message).toBe('max error 1e0 > tolerance 1.1e-4');
    expect(verdict('segmentation', ok, { agree: 999, total: 1000, ties: 0 })).toEqual({ status: 'pass' });
    expect(verdict('segmentation', ok, { agree: 990, total: 1000, ties: 9 })).toEqual({ status: 'pass' });
    expect(verdict('segmentation', ok, { agree: 998, total: 1000, ties: 0 })).toEqual({ status: 'fail', message: 'argmax mask agrees on 99.80% of pixels, under 99.9%' });
  });

  it('median and number formats', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect([sci(0), sci(3.14e-6), sci(Infinity), sci(undefined)]).toEqual(['0', '3.1e-6', 'inf', '']);
  });
});

describe('zoo table and summary', () => {
  const base = { task: 'classification' as const, side: 64, batch: 1, opset: 13 };
  const results: ZooResult[] = [
    { ...base, name: 'resnet18', family: 'ResNet', status: 'pass', onnxNodes: 49, dispatches: 25, maxAbsErr: 1.1e-5, torchF32Error: 6.5e-6, tolerance: 2.2e-4, top1: { agree: 1, total: 1, ties: 0 }, compileMs: 7964.2, runMs: 91.46 },
    { ...base, name: 'resnet50', family: 'ResNet', status: 'fail', onnxNodes: 122, dispatches: 60, maxAbsErr: 1e-3, tolerance: 2e-4, top1: { agree: 0, total: 1, ties: 0 }, compileMs: 20000, runMs: 300, message: 'max error 1e-3 > tolerance 2e-4' },
    {
      ...base, name: 'squeezenet1_1', family: 'SqueezeNet', status: 'refused', stage: 'load', onnxNodes: 83, errorName: 'UnsupportedOpError',
      message: "node 27 '/features/features.3/Concat' (Concat): op type 'Concat' is not supported; webcnn reads Add, AveragePool, BatchNormalization, Clip, Constant, Conv",
    },
    { ...base, name: 'fcn_resnet50', family: 'FCN', task: 'segmentation', status: 'pass', maxAbsErr: 0, tolerance: 1e-4, top1: { agree: 995, total: 1000, ties: 0 } },
    { ...base, side: 96, name: 'alexnet', family: 'AlexNet', status: 'skipped', message: 'torch exports alexnet only at sides 223-254, 415-446' },
  ];

  it('aligns the columns: names and status left, figures right', () => {
    const lines = formatTable(results).split('\n');
    expect(lines[0]).toMatch(/^model +side +batch +opset +nodes +dispatches +max err +torch err +tolerance +top-1 +compile ms +run ms +status$/);
    expect(lines[1]).toMatch(/^-+( +-+)+$/);
    expect(lines).toHaveLength(2 + results.length);
    const statusAt = lines[0].indexOf('status');
    for (const line of lines.slice(2)) expect(line[statusAt - 1]).toBe(' ');
    expect(lines[2]).toMatch(/^resnet18 +64 +1 +13 +49 +25 +1\.1e-5 +6\.5e-6 +2\.2e-4 +1\/1 +7964 +91\.5 +pass$/);
    // Right-aligned: the numbers end where their header does.
    const end = lines[0].indexOf('dispatches') + 'dispatches'.length;
    expect(lines[3].slice(0, end).endsWith('60')).toBe(true);
    expect(lines[5]).toContain('99.5%');
    expect(lines[6]).toContain('skipped: torch exports alexnet only at sides 223-254, 415-446');
  });

  it('cuts a long refusal at its first clause', () => {
    const line = formatTable(results, 110).split('\n')[4];
    expect(line).toContain("refused (load): node 27 '/features/features.3/Concat' (Concat): op type 'Concat' is not supported");
    expect(line).not.toContain('webcnn reads');
    expect(formatTable(results, 30).split('\n')[4].endsWith('refused (load): node 27 \'/f...')).toBe(true);
  });

  it('summarizes per family: counts and the worst error relative to the tolerance', () => {
    const s = summarize(results);
    expect(s.map((f) => f.family)).toEqual(['ResNet', 'SqueezeNet', 'FCN', 'AlexNet']);
    expect(s[0].counts).toEqual({ pass: 1, fail: 1, refused: 0, error: 0, skipped: 0 });
    expect(s[0].worst).toEqual({ name: 'resnet50', maxAbsErr: 1e-3, tolerance: 2e-4 });
    expect(s[1].worst).toBeUndefined();
    const text = formatSummary(results);
    expect(text).toMatch(/ResNet +2 +1 +1 +0 +0 +0 +1e-3 \(5\.000, resnet50\)/);
    expect(text.split('\n').at(-1)).toMatch(/^all +5 +2 +1 +1 +0 +1$/);
  });

  it('with coverage: runs per family and the sides, opsets and batches they covered', () => {
    const more: ZooResult[] = [...results, { ...results[0], side: 97, opset: 11, batch: 2 }];
    expect(summarize(more)[0]).toMatchObject({ sides: [64, 97], opsets: [11, 13], batches: [1, 2] });
    const lines = formatSummary(more, true).split('\n');
    expect(lines[0]).toMatch(/^family +runs +passed +failed +refused +errors +skipped +worst error \(x tolerance, model\) +sides +opsets +batches$/);
    expect(lines[2]).toMatch(/^ResNet +3 +2 +1 +0 +0 +0 +1e-3 \(5\.000, resnet50\) +64,97 +11,13 +1,2$/);
  });

  it('fails the run on a failure, a refusal or an error, not on a skip', () => {
    expect(anyProblem(results)).toBe(true);
    expect(anyProblem([results[0], results[4]])).toBe(false);
  });
});
