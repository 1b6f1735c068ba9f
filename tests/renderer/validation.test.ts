import { describe, expect, it } from 'vitest';
import { fieldErrors, projectDescriptionError, projectNameError, sentence } from '../../src/renderer/src/validation.ts';
import { methods } from '../../src/common/api/contract.ts';

const existing = [
  { id: 'p1', name: 'Support bot' },
  { id: 'p2', name: 'Legal summaries' },
];

describe('project form validation (from the contract’s schemas)', () => {
  it('asks for a name when it is empty or only spaces', () => {
    expect(projectNameError('', existing)).toBe('A project needs a name.');
    expect(projectNameError('   ', existing)).toBe('A project needs a name.');
  });

  it('enforces the contract’s length limit', () => {
    expect(projectNameError('x'.repeat(120), existing)).toBeNull();
    expect(projectNameError('x'.repeat(121), existing)).toBe('A project name has at most 120 characters.');
  });

  it('refuses a name another project has, but not the project’s own name when renaming', () => {
    expect(projectNameError(' Support bot ', existing)).toBe('A project named “Support bot” already exists. Choose another name.');
    expect(projectNameError('Support bot', existing, 'p1')).toBeNull();
    expect(projectNameError('Support bot', existing, 'p2')).not.toBeNull();
    expect(projectNameError('Support bot v2', existing)).toBeNull();
  });

  it('limits the description as the core does', () => {
    expect(projectDescriptionError('')).toBeNull();
    expect(projectDescriptionError('d'.repeat(2000))).toBeNull();
    expect(projectDescriptionError('d'.repeat(2001))).toMatch(/2000/);
  });

  it('reports the first problem of each field as a sentence', () => {
    expect(fieldErrors(methods['projects.rename'].input, { id: '', name: '' })).toEqual({
      id: expect.stringMatching(/\.$/),
      name: 'A project needs a name.',
    });
    expect(sentence('already ends well!')).toBe('Already ends well!');
  });
});
