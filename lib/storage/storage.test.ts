import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deletableContract, storageContract } from '../../test/support/storageContract.js';
import { FsStorage } from './fsStorage.js';
import { MemoryStorage } from './memoryStorage.js';

storageContract('memory', () => new MemoryStorage());
storageContract('fs', () => new FsStorage(fs.mkdtempSync(path.join(os.tmpdir(), 'fsstorage-'))));
deletableContract('fs', () => new FsStorage(fs.mkdtempSync(path.join(os.tmpdir(), 'fsstorage-'))));
