/**
 * `npm run sim -- <simulator> [options]`: runs one simulator. Simulators speak wire protocols only
 * and import nothing from gateway/, device-drivers/ or cloud-bridge/.
 */

interface SimulatorEntry {
  summary: string;
  main(argv: readonly string[]): Promise<number>;
}

const SIMULATORS: Record<string, SimulatorEntry> = {
  'mqtt-devices': {
    summary: 'the MQTT devices of a site (panels, doors, SOS buttons, sensors, siren, loudspeaker)',
    main: async (argv) => (await import('./mqtt-devices/cli.ts')).main(argv),
  },
  cameras: {
    summary: 'the ONVIF cameras of a site (device, media, PullPoint events, PTZ, snapshots, WS-Discovery)',
    main: async (argv) => (await import('./onvif-camera/cli.ts')).main(argv),
  },
  county: {
    summary: 'the county platform: receives pushed batches (HTTP or MQTT) and accounts for them; or pulls a box with cursor + acks',
    main: async (argv) => (await import('./county-platform/cli.ts')).main(argv),
  },
};

function list(): string {
  const width = Math.max(...Object.keys(SIMULATORS).map((k) => k.length));
  const lines = Object.entries(SIMULATORS).map(([name, s]) => `  ${name.padEnd(width)}  ${s.summary}`);
  return `usage: npm run sim -- <simulator> [options]   (--help after a name for its options)\n\nsimulators:\n${lines.join('\n')}\n`;
}

async function run(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    (name === undefined ? process.stderr : process.stdout).write(list());
    return name === undefined ? 2 : 0;
  }
  const sim = SIMULATORS[name];
  if (!sim) {
    process.stderr.write(`unknown simulator ${JSON.stringify(name)}\n\n${list()}`);
    return 2;
  }
  return sim.main(rest);
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
