import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { DoctorSchedule, SlotView } from '../../../shared/registrar'
import {
  addDays,
  formatWhen,
  groupSlotsByDay,
  scheduleOfResource,
  shiftView,
  shortName,
  today,
  viewStart,
  wallDate,
  wallTime,
  weekdayIndex,
  weekStart,
} from './schedule-model'

const slot = (id: string, start: string, status: SlotView['status'] = 'free'): SlotView => ({
  id,
  scheduleId: 's1',
  start,
  end: start,
  status,
  appointment: null,
  change: null,
})

const doctors: DoctorSchedule[] = [
  { scheduleId: 'sch-ther', practitionerId: 'pr-1', doctorName: 'Петров Пётр Петрович', specialty: 'Терапевт', service: 'Приём терапевта' },
  { scheduleId: 'sch-ther-home', practitionerId: 'pr-1', doctorName: 'Петров Пётр Петрович', specialty: 'Терапевт', service: 'Вызов на дом' },
  { scheduleId: 'sch-surg', practitionerId: 'pr-2', doctorName: 'Сидорова Анна Олеговна', specialty: 'Хирург', service: 'Приём хирурга' },
]

describe('days and weeks', () => {
  it('moves across months, years and leap days', () => {
    expect(addDays('2026-11-30', 1)).toBe('2026-12-01')
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29')
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28')
  })

  it('starts weeks on Monday', () => {
    expect(weekStart('2026-11-25')).toBe('2026-11-23') // Wednesday → Monday
    expect(weekStart('2026-11-23')).toBe('2026-11-23')
    expect(weekStart('2026-11-29')).toBe('2026-11-23') // Sunday belongs to the week before
    expect(weekdayIndex('2026-11-29')).toBe(6)
  })

  it('navigates a day or a week at a time', () => {
    expect(viewStart('day', '2026-11-25')).toBe('2026-11-25')
    expect(viewStart('week', '2026-11-25')).toBe('2026-11-23')
    expect(shiftView('day', '2026-11-25', 1)).toBe('2026-11-26')
    expect(shiftView('day', '2026-11-25', -1)).toBe('2026-11-24')
    expect(shiftView('week', '2026-11-25', 1)).toBe('2026-11-30')
    expect(shiftView('week', '2026-11-25', -1)).toBe('2026-11-16')
    expect(today(new Date(2026, 10, 25, 23, 59))).toBe('2026-11-25')
  })

  it('always shows a Monday-started week of the chosen date, wherever it is', () => {
    const day = fc.date({ min: new Date(Date.UTC(1990, 0, 1)), max: new Date(Date.UTC(2100, 0, 1)), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10))
    fc.assert(
      fc.property(day, (date) => {
        const start = weekStart(date)
        expect(weekdayIndex(start)).toBe(0)
        expect(start <= date && date <= addDays(start, 6)).toBe(true)
        expect(shiftView('week', shiftView('week', date, 1), -1)).toBe(start)
      }),
    )
  })
})

describe('clinic times', () => {
  it('shows times as the clinic wrote them, whatever the workstation zone', () => {
    expect(wallDate('2026-11-25T23:30:00+03:00')).toBe('2026-11-25')
    expect(wallTime('2026-11-25T09:05:00+03:00')).toBe('09:05')
    expect(formatWhen('2026-11-25T09:05:00+03:00')).toBe('25.11.2026 09:05')
    expect(wallDate('не время')).toBe('')
    expect(formatWhen('не время')).toBe('')
  })

  it('shortens names to initials', () => {
    expect(shortName('Иванов Иван Иванович')).toBe('Иванов И. И.')
    expect(shortName(' Петрова  анна ')).toBe('Петрова А.')
    expect(shortName('Мадонна')).toBe('Мадонна')
    expect(shortName('')).toBe('')
  })
})

describe('groupSlotsByDay', () => {
  it('gives every day of the view, slots in time order, and leaves out slots outside it', () => {
    const days = groupSlotsByDay(
      [
        slot('c', '2026-11-24T10:00:00+03:00'),
        slot('a', '2026-11-23T09:30:00+03:00', 'busy'),
        slot('b', '2026-11-23T09:00:00+03:00'),
        slot('late', '2026-11-30T09:00:00+03:00'),
        slot('early', '2026-11-22T09:00:00+03:00'),
      ],
      '2026-11-23',
      7,
    )
    expect(days.map((d) => d.date)).toEqual(['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29'])
    expect(days.map((d) => d.slots.map((s) => s.id))).toEqual([['b', 'a'], ['c'], [], [], [], [], []])
  })

  it('puts a late-evening slot on its clinic day', () => {
    const [day] = groupSlotsByDay([slot('x', '2026-11-25T23:45:00+03:00')], '2026-11-25', 1)
    expect(day?.slots.map((s) => s.id)).toEqual(['x'])
  })
})

describe('which schedule a booking conflict is on', () => {
  it('finds the practitioner of a FHIR Appointment, by reference or by name', () => {
    const byRef = { resourceType: 'Appointment', participant: [{ actor: { reference: 'Patient/p1' } }, { actor: { reference: 'Practitioner/pr-2' } }] }
    expect(scheduleOfResource(byRef, doctors)).toBe('sch-surg')
    const byName = { participant: [{ actor: { display: 'Сидорова Анна Олеговна' } }] }
    expect(scheduleOfResource(byName, doctors)).toBe('sch-surg')
    expect(scheduleOfResource({ participant: 'x' }, doctors)).toBeNull()
    expect(scheduleOfResource(null, doctors)).toBeNull()
  })

  it("takes a Slot's own schedule when it is one of the doctors'", () => {
    expect(scheduleOfResource({ resourceType: 'Slot', schedule: { reference: 'Schedule/sch-surg' } }, doctors)).toBe('sch-surg')
    expect(scheduleOfResource({ resourceType: 'Slot', schedule: { reference: 'Schedule/unknown' } }, doctors)).toBeNull()
  })
})
