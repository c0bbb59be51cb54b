// Builds and runs the plain C++ unit tests of the request record builder
// (native/unit/request_record_test.cc: target splitting, percent-decoding, environ keys,
// flags, override entries, uwsgi records, header name codes, the layout src/native.ts reads)
// under ASan + UBSan.
import { expect, it } from 'vitest';
import { runUnitTest } from './helpers/native-unit';

it('native/unit/request_record_test.cc passes under ASan + UBSan', () => {
  const sources = [
    'native/unit/request_record_test.cc', 'native/request_record.cc', 'native/parser.cc', 'native/known_headers.cc',
    'native/uwsgi/uwsgi_parser.cc', 'native/header_name_codes.cc',
  ];
  expect(runUnitTest('request_record_test', sources)).toContain('all checks passed');
}, 150_000);
