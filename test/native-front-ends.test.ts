// Builds and runs the plain C++ unit tests of a connection's protocol front-ends
// (native/unit/front_ends_test.cc: the PROXY header into the peer address and environ
// entries, the uwsgi request into a record, the health path's match and answer) under
// ASan + UBSan.
import { expect, it } from 'vitest';
import { runUnitTest } from './helpers/native-unit';

it('native/unit/front_ends_test.cc passes under ASan + UBSan', () => {
  const sources = [
    'native/unit/front_ends_test.cc', 'native/proxy/proxy_front_end.cc', 'native/proxy/proxy_protocol.cc',
    'native/environ_entries.cc', 'native/uwsgi/uwsgi_front_end.cc', 'native/uwsgi/uwsgi_parser.cc',
    'native/request_record.cc', 'native/parser.cc', 'native/known_headers.cc', 'native/health_check.cc',
    'native/header_name_codes.cc',
  ];
  expect(runUnitTest('front_ends_test', sources)).toContain('all checks passed');
}, 150_000);
