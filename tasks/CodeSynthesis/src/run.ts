// placeholder, being written
export async function run(): Promise<void> {}
