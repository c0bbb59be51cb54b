// Builds and runs the plain C++ unit tests of the server core (native/unit/framing_test.cc:
// framing, Date cache, canned errors, spooling) under ASan + UBSan.
import { expect, it } from 'vitest';
import { runUnitTest } from './helpers/native-unit';

it('native/unit/framing_test.cc passes under ASan + UBSan', () => {
  const sources = ['native/unit/framing_test.cc', 'native/framing.cc', 'native/date_cache.cc', 'native/spool.cc'];
  expect(runUnitTest('framing_test', sources)).toContain('all checks passed');
}, 150_000);
