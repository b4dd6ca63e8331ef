#!/usr/bin/perl

# The module installs its phase handlers only where some location of the
# configuration needs them.  "webpubsub_refuse_stray_events on" with no
# gate anywhere still refuses stray events, in the first configuration and
# after a reload into it; a server that loads the module and uses none of
# it serves as nginx alone would, also after a reload out of it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use WebPubSub::Nginx;

my $STRAY =
    '{"error":"CloudEvents request outside the event handler gateway"}';

my $t = WebPubSub::Nginx->new();
$t->plan(8);

# the checked location proxies to an app (a content handler: "return"
# would answer before the check)
sub conf {
    my ($http) = @_;
    $t->write_conf($t->conf_location(<<"EOF",
$http
    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / {
            return 200 "app\\n";
        }
    }
EOF
        'proxy_pass http://127.0.0.1:%%PORT_1%%;'));
}

sub post {
    my (%headers) = @_;
    return $t->request('POST', '/api/events', headers => \%headers,
        body => '{}');
}

my %event = ('ce-type' => 'azure.webpubsub.sys.connected',
             'ce-signature' => 'sha256=' . ('0' x 64));

# only the refusal of stray events, from the first configuration

conf('webpubsub_refuse_stray_events on;');
$t->run();

my $r = post(%event);
is($r->{status}, 403, 'stray only, from the start: refused');
is($r->{content}, $STRAY, 'stray only, from the start: the reason');
is(post('Ce-Type' => 'azure.webpubsub.sys.connected')->{status}, 403,
    'stray only: Ce-Type alone');
is(post()->{status}, 200, 'stray only: an ordinary request is served');

# the module loaded, nothing of it configured, after a reload

conf('');
$t->reload();

$r = post(%event);
ok($r->{status} == 200 && $r->{content} eq "app\n",
    'unused: a CloudEvents request is served as nginx alone would');
is(post()->{status}, 200, 'unused: an ordinary request');

# and back

conf('webpubsub_refuse_stray_events on;');
$t->reload();

$r = post(%event);
is($r->{status}, 403, 'stray only, reloaded into: refused');
is($r->{content}, $STRAY, 'stray only, reloaded into: the reason');

$t->done();
