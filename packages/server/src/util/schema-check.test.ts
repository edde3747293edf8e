import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Type } from 'typebox';
import { schemaCheck } from './schema-check.ts';

const Spec = Type.Object(
  {
    ratio: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
    ttl: Type.Optional(
      Type.Union([
        Type.Boolean(),
        Type.Object(
          { minMs: Type.Integer({ minimum: 1000, maximum: 60_000 }) },
          { additionalProperties: false },
        ),
      ]),
    ),
    param: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
  },
  { additionalProperties: false },
);
const check = schemaCheck(Spec, 'body');

test('exclusive bounds are written as such, with the limit', () => {
  assert.deepEqual(check({ ratio: 1 }), {
    field: 'ratio',
    detail: 'ratio: expected a number 0 < x < 1, got 1',
    limit: '0 < x < 1',
  });
});

test('a union names the branch the value fits, else every alternative', () => {
  // An object fits only the object branch: its nested field is named by its path.
  assert.deepEqual(check({ ttl: { minMs: 5 } }), {
    field: 'ttl.minMs',
    detail: 'ttl.minMs: expected an integer 1000..60000, got 5',
    limit: '1000..60000',
  });
  // A string fits no branch: the alternatives are listed.
  assert.equal(check({ ttl: 'yes' })?.detail, 'ttl: expected true or false or an object, got "yes"');
  assert.equal(
    check({ param: {} })?.detail,
    'param: expected a string or a number or true or false or null, got an object',
  );
  assert.equal(check({ ttl: true, param: 3 }), undefined);
});
