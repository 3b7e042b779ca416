// The text of one generated sample file: a top-level function `sampleN(n)`
// written long-hand, with comments, long names and dead branches that
// terser can shrink. Deterministic: the same index gives the same file.

/** The name of the function sample file `index` declares. */
export function sampleName(index: number): string {
  return `sample${index}`;
}

/** Source text of sample file `index`, about `helpers` × 1 KB long. */
export function sampleSource(index: number, helpers = 24): string {
  const parts = [`// Sample file ${index}, generated for the gulp example. Not hand-written.\n'use strict';\n`];
  for (let h = 0; h < helpers; h++) parts.push(helperSource(index, h));
  parts.push(mainSource(index, helpers));
  return parts.join('\n');
}

function helperSource(index: number, h: number): string {
  const a = (index * 31 + h * 7) % 97;
  const b = (index * 17 + h * 13) % 89;
  return `
/**
 * Helper ${h} of sample ${index}: mixes an accumulated value with the input.
 * The long names and this comment are here for the minifier to remove.
 */
function helperNumber${h}OfSample${index}(accumulatedValue, inputNumber) {
  const multiplierConstant = ${a};
  const additiveConstant = ${b};
  let intermediateResult = accumulatedValue;
  if (typeof inputNumber !== 'number') {
    throw new TypeError('helper ${h} expects a number, got ' + typeof inputNumber);
  }
  for (let loopIndex = 0; loopIndex < 3; loopIndex = loopIndex + 1) {
    intermediateResult = (intermediateResult * multiplierConstant + inputNumber + additiveConstant + loopIndex) % 1000003;
  }
  if (false) {
    console.log('this branch never runs and terser drops it', intermediateResult);
  }
  const describedResult = { value: intermediateResult, helperIndex: ${h} };
  return describedResult.value;
}
`;
}

function mainSource(index: number, helpers: number): string {
  const calls = [];
  for (let h = 0; h < helpers; h++) calls.push(`  runningTotalValue = helperNumber${h}OfSample${index}(runningTotalValue, inputValue + ${h});`);
  return `
/** Entry point of sample ${index}: the value every helper leaves, in turn. */
function ${sampleName(index)}(inputValue) {
  let runningTotalValue = ${index};
${calls.join('\n')}
  return runningTotalValue;
}
`;
}
