#!/usr/bin/perl

# The bounds of the shared service configuration, with nginx -t, each
# exactly at its bound (accepted) and one past it (refused with the
# documented message): a hub name of 128 characters, an endpoint of 2048
# bytes after normalisation, port 65535, a key of 4096 bytes and its file
# of 4098, a key file of 65536 bytes, and nginx's own limit on an inline
# key.  The bounds of each feature are in negotiate_limits.t,
# event_limits.t and rest_limits.t.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

# a 4096-byte key, and the file of 4098 bytes it comes from
my $KEY = substr('K0123456789abcdefghijklmnopqrstuvwxyz-_' x 110, 0, 4096);
$t->write_file('k4096.key', "$KEY\r\n");

# hub names of exact lengths
my $H128 = 'H' . ('h' x 127);
my $H129 = $H128 . 'h';

$t->plan(23);

$t->write_file('k4097.key', 'k' x 4097);
$t->write_file('k4098.key', 'k' x 4098);
$t->write_file('k4096-3nl.key', ('k' x 4096) . "\n\n\n");
$t->write_file('k4096-sp.key', ('k' x 4096) . (' ' x (65536 - 4097)) . "\n");
$t->write_file('k65537.key', ('k' x 4096) . (' ' x (65537 - 4097)) . "\n");

my $CS_TAIL = 'webpubsub_access_key k; webpubsub_hub chat;';

# [ name, http-level lines, expected error (regex) or undef ]
my @conf = (
    [ 'hub of 128 characters', "webpubsub_hub $H128;", undef ],
    [ 'hub of 129 characters', "webpubsub_hub $H129;",
      qr/"webpubsub_hub" directive: hub name "Hh+" is longer than 128 characters/ ],

    # endpoints, counted as written after normalisation
    [ 'endpoint http://<2040>: 2048 with the final /',
      'webpubsub_endpoint http://' . ('e' x 2040) . "; $CS_TAIL", undef ],
    [ 'endpoint http://<2041>: 2049',
      'webpubsub_endpoint http://' . ('e' x 2041) . "; $CS_TAIL",
      qr/"webpubsub_endpoint" directive has an endpoint that is too long/ ],
    [ 'endpoint https://<2039>:443: 2048, the default port dropped',
      'webpubsub_endpoint https://' . ('e' x 2039) . ":443; $CS_TAIL", undef ],
    [ 'endpoint https://<2040>:443: 2049',
      'webpubsub_endpoint https://' . ('e' x 2040) . ":443; $CS_TAIL",
      qr/"webpubsub_endpoint" directive has an endpoint that is too long/ ],
    [ 'endpoint http://<2035>:8080: 2048',
      'webpubsub_endpoint http://' . ('e' x 2035) . ":8080; $CS_TAIL", undef ],
    [ 'endpoint http://<2036>:8080: 2049',
      'webpubsub_endpoint http://' . ('e' x 2036) . ":8080; $CS_TAIL",
      qr/"webpubsub_endpoint" directive has an endpoint that is too long/ ],
    [ 'endpoint with a path ending in /: 2048',
      'webpubsub_endpoint http://h/' . ('p' x 2038) . "/; $CS_TAIL", undef ],
    [ 'endpoint with a path ending in /: 2049',
      'webpubsub_endpoint http://h/' . ('p' x 2039) . "/; $CS_TAIL",
      qr/"webpubsub_endpoint" directive has an endpoint that is too long/ ],
    [ 'connection string, Endpoint and Port=8080: 2048',
      'webpubsub_connection_string "Endpoint=http://' . ('e' x 2035)
      . ';Port=8080;AccessKey=k"; webpubsub_hub chat;', undef ],
    [ 'connection string, Endpoint and Port=8080: 2049',
      'webpubsub_connection_string "Endpoint=http://' . ('e' x 2036)
      . ';Port=8080;AccessKey=k"; webpubsub_hub chat;',
      qr/"webpubsub_connection_string" directive has an endpoint that is too long/ ],
    [ 'endpoint port 65535',
      "webpubsub_endpoint http://h:65535; $CS_TAIL", undef ],
    [ 'endpoint port 65536',
      "webpubsub_endpoint http://h:65536; $CS_TAIL",
      qr/"webpubsub_endpoint" directive has an endpoint with a port that is not 1 to 65535/ ],

    # keys
    [ 'key file of 4098 bytes: a 4096-byte key and "\r\n"',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/k4096.key;',
      undef ],
    [ 'key file of a 4097-byte key',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/k4097.key;',
      qr/"webpubsub_access_key_file" directive has a key longer than 4096 bytes/ ],
    [ 'key file of a 4098-byte key',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/k4098.key;',
      qr/"webpubsub_access_key_file" directive has a key longer than 4096 bytes/ ],
    [ 'key file of 4099 bytes (a 4096-byte key and three newlines)',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/k4096-3nl.key;',
      undef ],
    [ 'key file of 65536 bytes (a 4096-byte key and white space)',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/k4096-sp.key;',
      undef ],
    [ 'key file of 65537 bytes',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/k65537.key;',
      qr/"webpubsub_access_key_file" directive: ".*k65537\.key" is not a regular file of at most 65536 bytes/ ],
    [ 'endpoint port 065535: leading zeros are no digits',
      "webpubsub_endpoint http://h:065535; $CS_TAIL", undef ],
    [ 'inline key of 4095 bytes, the longest parameter nginx reads',
      'webpubsub_endpoint http://h; webpubsub_access_key ' . ('k' x 4095) . ';',
      undef ],
    [ 'inline key of 4096 bytes: nginx\'s own "too long parameter"',
      'webpubsub_endpoint http://h; webpubsub_access_key ' . ('k' x 4096) . ';',
      qr/too long parameter "k+\.\.\." started in/ ],
);

$t->nginx_t_limit(@$_) for @conf;

$t->done();
