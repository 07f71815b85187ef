#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Echoes one line per connection, prefixed with "echo: ", for N
# connections on 127.0.0.1:PORT, then exits.  Prints "ready" once
# listening.
use strict;
use warnings;
use IO::Socket::INET;

my ($port, $n) = @ARGV;
my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $port,
			      Listen => 16, ReuseAddr => 1) or die "listen: $!";
$| = 1;
print "ready\n";
for (1 .. $n) {
	my $c = $l->accept() or die "accept: $!";
	my $line = <$c>;
	print $c "echo: $line" if defined $line;
	close($c);
}
close($l);
